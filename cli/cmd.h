/* cmd: owns the subcommands of the pefleet command-line front.
 * Defines each cmd_* entry point (argc/argv after the subcommand name;
 * returns the process exit code: 0 ok, 1 failure, 2 usage error).
 * Called by cli/pefleet.c. */
#ifndef PF_CMD_H
#define PF_CMD_H

int cmd_encode(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import_csv(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_import_keras(int argc, char **argv);
int cmd_predict(int argc, char **argv);
/* predict with prog ("pefleet scan") naming it in messages */
int cmd_predict_as(int argc, char **argv, const char *prog);
int cmd_scan(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_train(int argc, char **argv);      /* linked into pefleet-trainer only */
int cmd_train_exec(int argc, char **argv); /* pefleet train: runs pefleet-trainer */
int cmd_evaluate(int argc, char **argv);
int cmd_promote(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_retrain(int argc, char **argv);
int cmd_feed(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_similar(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_relevance(int argc, char **argv);
int cmd_explain_baseline(int argc, char **argv);
int cmd_requeue(int argc, char **argv);

#endif

/* The stored samples most similar to an explained file (see explain_similar.h). */
#include "explain_similar.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pf_err.h"
#include "pf_fmt.h"
#include "pf_msg.h"

int explain_similar_json(pf_rpc *rpc, const double *vec, size_t n, unsigned top, int timeout_ms, char *buf,
                         size_t len) {
  if (len) buf[0] = '\0';
  if (!rpc || len < 3) return 0;
  Pefleet__SimilarRequest q = PEFLEET__SIMILAR_REQUEST__INIT;
  Pefleet__Vector v = PEFLEET__VECTOR__INIT;
  v.n_values = n;
  v.values = (double *)vec;
  q.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_VECTOR;
  q.vector = &v;
  q.threshold = -1.0; /* every stored sample may be among the top */
  q.top = top;
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_SIMILAR;
  env.similar = &q;
  Pefleet__Envelope *rep = NULL;
  char err[300];
  if (pf_rpc_call(rpc, &env, timeout_ms, &rep, err, sizeof err) != PF_OK) return 0;
  const Pefleet__SimilarReply *r = rep->similar_reply;
  if (r->status != PEFLEET__SCORE_STATUS__SCORE_OK) { pf_msg_free(rep); return 0; }
  FILE *f = fmemopen(buf, len, "w");
  if (!f) { pf_msg_free(rep); return 0; }
  fputc('[', f);
  for (size_t i = 0; i < r->n_hits; i++) {
    const Pefleet__SimilarHit *h = r->hits[i];
    char num[40];
    pf_fmt_double(h->similarity, num, sizeof num);
    fprintf(f, "%s{\"sha256\":", i ? "," : "");
    pf_fmt_json_string(f, h->sha256 ? h->sha256 : "");
    fprintf(f, ",\"similarity\":%s,\"labels\":[", num);
    for (size_t k = 0; k < h->n_labels; k++) {
      if (k) fputc(',', f);
      pf_fmt_json_string(f, h->labels[k]);
    }
    fputs("]}", f);
  }
  fputc(']', f);
  int ok = fclose(f) == 0 && strlen(buf) < len - 1;
  pf_msg_free(rep);
  if (!ok) buf[0] = '\0';
  return ok;
}

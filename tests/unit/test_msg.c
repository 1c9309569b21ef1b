/* Unit tests of the wire envelope (pf_msg) and of how envelopes travel over
 * ZeroMQ (pf_zmq): every body type round-trips; the decoder rejects
 * oversized, garbage, truncated, wrong-version and body-less input with a
 * one-line reason; pf_zrecv caps and fully consumes over-long messages. */
#include "pf_test.h"

#include <errno.h>
#include <zmq.h>

#include "pf_err.h"
#include "pf_msg.h"
#include "pf_zmq.h"

#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* The reason is one non-empty line. */
static void assert_one_line(const char *err) {
  assert_true(err[0] != '\0');
  assert_null(strchr(err, '\n'));
  assert_null(strchr(err, '\r'));
}

/* Encodes env, decodes the bytes (checked against both caps) and returns
 * the decoded envelope; the caller frees it with pf_msg_free. */
static Pefleet__Envelope *roundtrip(Pefleet__Envelope *env, size_t max) {
  uint8_t *buf = NULL;
  long n = pf_msg_encode(env, &buf);
  assert_true(n > 0);
  assert_int_equal(env->version, PF_PROTO_VERSION);
  char err[256] = "";
  Pefleet__Envelope *d = pf_msg_decode(buf, (size_t)n, max, err, sizeof err);
  if (!d) fail_msg("decode of an encoded %s failed: %s", pf_msg_body_name(env), err);
  assert_int_equal(d->version, PF_PROTO_VERSION);
  assert_int_equal(d->body_case, env->body_case);
  assert_string_equal(pf_msg_body_name(d), pf_msg_body_name(env));
  free(buf);
  return d;
}

static void test_roundtrip_ingest(void **state) {
  Pefleet__IngestRequest rq = PEFLEET__INGEST_REQUEST__INIT;
  rq.sha256 = (char *)SHA_A;
  rq.label = (char *)"malicious";
  rq.size = UINT64_C(0x123456789a);
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.version = 77; /* encode overwrites it */
  env.body_case = PEFLEET__ENVELOPE__BODY_INGEST;
  env.ingest = &rq;
  Pefleet__Envelope *d = roundtrip(&env, PF_MSG_MAX_CONTROL);
  assert_string_equal(pf_msg_body_name(d), "ingest");
  assert_string_equal(d->ingest->sha256, SHA_A);
  assert_string_equal(d->ingest->label, "malicious");
  assert_true(d->ingest->size == UINT64_C(0x123456789a));
  pf_msg_free(d);
}

static void test_roundtrip_ingest_ack(void **state) {
  Pefleet__IngestAck a = PEFLEET__INGEST_ACK__INIT;
  a.sha256 = (char *)SHA_B;
  a.status = PEFLEET__INGEST_STATUS__INGEST_DUPLICATE;
  a.error = (char *)"";
  a.sample_status = (char *)"done";
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_INGEST_ACK;
  env.ingest_ack = &a;
  Pefleet__Envelope *d = roundtrip(&env, PF_MSG_MAX_CONTROL);
  assert_string_equal(pf_msg_body_name(d), "ingest_ack");
  assert_string_equal(d->ingest_ack->sha256, SHA_B);
  assert_int_equal(d->ingest_ack->status, PEFLEET__INGEST_STATUS__INGEST_DUPLICATE);
  assert_string_equal(d->ingest_ack->error, "");
  assert_string_equal(d->ingest_ack->sample_status, "done");
  pf_msg_free(d);

  a.status = PEFLEET__INGEST_STATUS__INGEST_REJECTED;
  a.error = (char *)"label must be 1-127 printable ASCII characters without commas";
  d = roundtrip(&env, PF_MSG_MAX_CONTROL);
  assert_int_equal(d->ingest_ack->status, PEFLEET__INGEST_STATUS__INGEST_REJECTED);
  assert_string_equal(d->ingest_ack->error, a.error);
  pf_msg_free(d);
}

static void test_roundtrip_worker_messages(void **state) {
  Pefleet__WorkerReady r = PEFLEET__WORKER_READY__INIT;
  r.worker_id = (char *)"host-1234-1700000000";
  r.capacity = 8;
  r.pid = 4242;
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_READY;
  env.ready = &r;
  Pefleet__Envelope *d = roundtrip(&env, PF_MSG_MAX_CONTROL);
  assert_string_equal(pf_msg_body_name(d), "ready");
  assert_string_equal(d->ready->worker_id, "host-1234-1700000000");
  assert_int_equal(d->ready->capacity, 8);
  assert_int_equal(d->ready->pid, 4242);
  pf_msg_free(d);

  /* a heartbeat with every field at its default still has a body */
  Pefleet__Heartbeat hb = PEFLEET__HEARTBEAT__INIT;
  Pefleet__Envelope env2 = PEFLEET__ENVELOPE__INIT;
  env2.body_case = PEFLEET__ENVELOPE__BODY_HEARTBEAT;
  env2.heartbeat = &hb;
  d = roundtrip(&env2, PF_MSG_MAX_CONTROL);
  assert_string_equal(pf_msg_body_name(d), "heartbeat");
  assert_string_equal(d->heartbeat->worker_id, "");
  pf_msg_free(d);
  hb.worker_id = (char *)"broker";
  d = roundtrip(&env2, PF_MSG_MAX_CONTROL);
  assert_string_equal(d->heartbeat->worker_id, "broker");
  pf_msg_free(d);

  Pefleet__EncodeJob job = PEFLEET__ENCODE_JOB__INIT;
  job.sha256 = (char *)SHA_A;
  job.attempt = 3;
  Pefleet__Envelope env3 = PEFLEET__ENVELOPE__INIT;
  env3.body_case = PEFLEET__ENVELOPE__BODY_JOB;
  env3.job = &job;
  d = roundtrip(&env3, PF_MSG_MAX_CONTROL);
  assert_string_equal(pf_msg_body_name(d), "job");
  assert_string_equal(d->job->sha256, SHA_A);
  assert_int_equal(d->job->attempt, 3);
  pf_msg_free(d);

  Pefleet__EncodeResult res = PEFLEET__ENCODE_RESULT__INIT;
  res.sha256 = (char *)SHA_B;
  res.ok = 0;
  res.error = (char *)"not a PE file (no MZ signature)";
  res.retry = 1;
  Pefleet__Envelope env4 = PEFLEET__ENVELOPE__INIT;
  env4.body_case = PEFLEET__ENVELOPE__BODY_RESULT;
  env4.result = &res;
  d = roundtrip(&env4, PF_MSG_MAX_CONTROL);
  assert_string_equal(pf_msg_body_name(d), "result");
  assert_string_equal(d->result->sha256, SHA_B);
  assert_false(d->result->ok);
  assert_true(d->result->retry);
  assert_string_equal(d->result->error, res.error);
  pf_msg_free(d);
}

static void test_roundtrip_score(void **state) {
  /* input: the file's bytes (bigger than the control cap: needs the sample cap) */
  size_t big = PF_MSG_MAX_CONTROL + 4096;
  uint8_t *sample = malloc(big);
  assert_non_null(sample);
  for (size_t i = 0; i < big; i++) sample[i] = (uint8_t)(i * 31 + 7);
  Pefleet__ScoreRequest sr;
  pefleet__score_request__init(&sr); /* (the oneof INIT macros trip -Wmissing-braces) */
  sr.input_case = PEFLEET__SCORE_REQUEST__INPUT_SAMPLE;
  sr.sample.data = sample;
  sr.sample.len = big;
  sr.request_id = (char *)"req-1";
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_SCORE;
  env.score = &sr;
  Pefleet__Envelope *d = roundtrip(&env, PF_MSG_MAX_SAMPLE);
  assert_string_equal(pf_msg_body_name(d), "score");
  assert_int_equal(d->score->input_case, PEFLEET__SCORE_REQUEST__INPUT_SAMPLE);
  assert_int_equal(d->score->sample.len, big);
  assert_memory_equal(d->score->sample.data, sample, big);
  assert_string_equal(d->score->request_id, "req-1");
  pf_msg_free(d);

  /* the same request is refused under the control cap, before unpacking */
  uint8_t *buf = NULL;
  long n = pf_msg_encode(&env, &buf);
  assert_true(n > (long)PF_MSG_MAX_CONTROL);
  char err[256] = "";
  assert_null(pf_msg_decode(buf, (size_t)n, PF_MSG_MAX_CONTROL, err, sizeof err));
  assert_non_null(strstr(err, "exceeds the 65536-byte limit"));
  free(buf);
  free(sample);

  /* input: a sha256 */
  sr.input_case = PEFLEET__SCORE_REQUEST__INPUT_SHA256;
  sr.sha256 = (char *)SHA_A;
  d = roundtrip(&env, PF_MSG_MAX_CONTROL);
  assert_int_equal(d->score->input_case, PEFLEET__SCORE_REQUEST__INPUT_SHA256);
  assert_string_equal(d->score->sha256, SHA_A);
  pf_msg_free(d);

  /* input: a vector */
  double vals[486];
  for (int i = 0; i < 486; i++) vals[i] = i / 485.0 - 0.25;
  Pefleet__Vector v = PEFLEET__VECTOR__INIT;
  v.n_values = 486;
  v.values = vals;
  sr.input_case = PEFLEET__SCORE_REQUEST__INPUT_VECTOR;
  sr.vector = &v;
  d = roundtrip(&env, PF_MSG_MAX_CONTROL);
  assert_int_equal(d->score->input_case, PEFLEET__SCORE_REQUEST__INPUT_VECTOR);
  assert_int_equal(d->score->vector->n_values, 486);
  assert_memory_equal(d->score->vector->values, vals, sizeof vals);
  pf_msg_free(d);

  /* the reply */
  double probs[2] = {0.125, 0.875};
  Pefleet__ScoreReply rep = PEFLEET__SCORE_REPLY__INIT;
  rep.request_id = (char *)"req-1";
  rep.sha256 = (char *)SHA_B;
  rep.n_probabilities = 2;
  rep.probabilities = probs;
  rep.verdict = (char *)"malicious";
  rep.threshold = 0.5;
  rep.model_version = (char *)"m-3";
  rep.status = PEFLEET__SCORE_STATUS__SCORE_OK;
  Pefleet__Envelope env2 = PEFLEET__ENVELOPE__INIT;
  env2.body_case = PEFLEET__ENVELOPE__BODY_SCORE_REPLY;
  env2.score_reply = &rep;
  d = roundtrip(&env2, PF_MSG_MAX_CONTROL);
  assert_string_equal(pf_msg_body_name(d), "score_reply");
  assert_int_equal(d->score_reply->n_probabilities, 2);
  assert_memory_equal(d->score_reply->probabilities, probs, sizeof probs);
  assert_string_equal(d->score_reply->verdict, "malicious");
  assert_true(d->score_reply->threshold == 0.5);
  assert_string_equal(d->score_reply->model_version, "m-3");
  assert_int_equal(d->score_reply->status, PEFLEET__SCORE_STATUS__SCORE_OK);
  pf_msg_free(d);
}

static void test_roundtrip_similar(void **state) {
  Pefleet__SimilarRequest sq;
  pefleet__similar_request__init(&sq);
  sq.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_SHA256;
  sq.sha256 = (char *)SHA_A;
  sq.threshold = 0.9;
  sq.top = 10;
  sq.request_id = (char *)"q";
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.body_case = PEFLEET__ENVELOPE__BODY_SIMILAR;
  env.similar = &sq;
  Pefleet__Envelope *d = roundtrip(&env, PF_MSG_MAX_CONTROL);
  assert_string_equal(pf_msg_body_name(d), "similar");
  assert_int_equal(d->similar->query_case, PEFLEET__SIMILAR_REQUEST__QUERY_SHA256);
  assert_string_equal(d->similar->sha256, SHA_A);
  assert_true(d->similar->threshold == 0.9);
  assert_int_equal(d->similar->top, 10);
  pf_msg_free(d);

  uint8_t bytes[3] = {'M', 'Z', 0};
  sq.query_case = PEFLEET__SIMILAR_REQUEST__QUERY_SAMPLE;
  sq.sample.data = bytes;
  sq.sample.len = sizeof bytes;
  d = roundtrip(&env, PF_MSG_MAX_CONTROL);
  assert_int_equal(d->similar->query_case, PEFLEET__SIMILAR_REQUEST__QUERY_SAMPLE);
  assert_int_equal(d->similar->sample.len, 3);
  assert_memory_equal(d->similar->sample.data, bytes, 3);
  pf_msg_free(d);

  char *labels0[2] = {(char *)"clean", (char *)"malicious"};
  Pefleet__SimilarHit h0 = PEFLEET__SIMILAR_HIT__INIT, h1 = PEFLEET__SIMILAR_HIT__INIT;
  h0.sha256 = (char *)SHA_A;
  h0.similarity = 1.0;
  h0.n_labels = 2;
  h0.labels = labels0;
  h0.split = (char *)"train";
  h1.sha256 = (char *)SHA_B;
  h1.similarity = 0.93;
  h1.split = (char *)"test";
  Pefleet__SimilarHit *hits[2] = {&h0, &h1};
  Pefleet__SimilarReply rep = PEFLEET__SIMILAR_REPLY__INIT;
  rep.request_id = (char *)"q";
  rep.n_hits = 2;
  rep.hits = hits;
  rep.status = PEFLEET__SCORE_STATUS__SCORE_OK;
  Pefleet__Envelope env2 = PEFLEET__ENVELOPE__INIT;
  env2.body_case = PEFLEET__ENVELOPE__BODY_SIMILAR_REPLY;
  env2.similar_reply = &rep;
  d = roundtrip(&env2, PF_MSG_MAX_CONTROL);
  assert_string_equal(pf_msg_body_name(d), "similar_reply");
  assert_int_equal(d->similar_reply->n_hits, 2);
  assert_string_equal(d->similar_reply->hits[0]->sha256, SHA_A);
  assert_int_equal(d->similar_reply->hits[0]->n_labels, 2);
  assert_string_equal(d->similar_reply->hits[0]->labels[1], "malicious");
  assert_string_equal(d->similar_reply->hits[0]->split, "train");
  assert_true(d->similar_reply->hits[1]->similarity == 0.93);
  assert_int_equal(d->similar_reply->hits[1]->n_labels, 0);
  pf_msg_free(d);
}

/* Packs an ingest request by hand with any version (pf_msg_encode would
 * overwrite it). Caller frees. */
static uint8_t *pack_ingest(uint32_t version, int with_body, size_t *len) {
  Pefleet__IngestRequest rq = PEFLEET__INGEST_REQUEST__INIT;
  rq.sha256 = (char *)SHA_A;
  rq.label = (char *)"clean";
  rq.size = 1024;
  Pefleet__Envelope env = PEFLEET__ENVELOPE__INIT;
  env.version = version;
  if (with_body) {
    env.body_case = PEFLEET__ENVELOPE__BODY_INGEST;
    env.ingest = &rq;
  }
  *len = pefleet__envelope__get_packed_size(&env);
  uint8_t *buf = malloc(*len ? *len : 1);
  assert_non_null(buf);
  assert_int_equal(pefleet__envelope__pack(&env, buf), *len);
  return buf;
}

static void test_reject_oversized_before_unpacking(void **state) {
  size_t n;
  uint8_t *buf = pack_ingest(PF_PROTO_VERSION, 1, &n);
  char err[256] = "";
  /* exactly at the cap: fine; one byte under the length: refused */
  Pefleet__Envelope *d = pf_msg_decode(buf, n, n, err, sizeof err);
  assert_non_null(d);
  pf_msg_free(d);
  assert_null(pf_msg_decode(buf, n, n - 1, err, sizeof err));
  char want[128];
  snprintf(want, sizeof want, "message of %zu bytes exceeds the %zu-byte limit", n, n - 1);
  assert_string_equal(err, want);
  assert_one_line(err);
  free(buf);

  /* The length alone decides: a buffer that is not readable at all (NULL)
   * with a length past the cap must be refused without being touched. */
  err[0] = '\0';
  assert_null(pf_msg_decode(NULL, (size_t)PF_MSG_MAX_CONTROL + 1, PF_MSG_MAX_CONTROL, err, sizeof err));
  assert_string_equal(err, "message of 65537 bytes exceeds the 65536-byte limit");
  assert_null(pf_msg_decode(NULL, SIZE_MAX, PF_MSG_MAX_SAMPLE, err, sizeof err));
  assert_non_null(strstr(err, "exceeds the 134217728-byte limit"));
  assert_one_line(err);
}

/* xorshift64*: reproducible bytes per seed */
static uint64_t rnd_next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C(2685821657736338717);
}

static void test_reject_random_garbage(void **state) {
  static uint8_t buf[4096];
  int rejected = 0, accepted = 0;
  const int seeds = 5000;
  for (int seed = 1; seed <= seeds; seed++) {
    uint64_t s = UINT64_C(0x9e3779b97f4a7c15) * (uint64_t)seed;
    size_t len = (size_t)(rnd_next(&s) % sizeof buf);
    if (seed <= 8) len = (size_t)seed - 1; /* the shortest inputs too */
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)(rnd_next(&s) >> 56);
    char err[256] = "";
    Pefleet__Envelope *d = pf_msg_decode(buf, len, PF_MSG_MAX_CONTROL, err, sizeof err);
    if (d) {
      /* random bytes may spell a valid envelope; then it must be a whole one */
      assert_int_equal(d->version, PF_PROTO_VERSION);
      assert_int_not_equal(d->body_case, PEFLEET__ENVELOPE__BODY__NOT_SET);
      assert_string_not_equal(pf_msg_body_name(d), "unknown");
      accepted++;
      pf_msg_free(d);
    } else {
      assert_one_line(err);
      assert_true(strncmp(err, "malformed message", 17) == 0 || strncmp(err, "unsupported schema version", 26) == 0 ||
                  strncmp(err, "message without a body", 22) == 0);
      rejected++;
    }
  }
  print_message("%d random inputs: %d rejected, %d happened to be valid envelopes\n", seeds, rejected, accepted);
  assert_true(rejected > seeds * 9 / 10);

  /* the empty input is an envelope with every field at its default: version 0 */
  char err[256] = "";
  assert_null(pf_msg_decode(buf, 0, PF_MSG_MAX_CONTROL, err, sizeof err));
  assert_string_equal(err, "unsupported schema version 0 (this build speaks 1)");
  /* bytes that cannot be protobuf at all: field number 0 */
  memset(buf, 0, 100);
  assert_null(pf_msg_decode(buf, 100, PF_MSG_MAX_CONTROL, err, sizeof err));
  assert_string_equal(err, "malformed message (100 bytes are not a pefleet envelope)");
}

static void test_reject_truncated(void **state) {
  size_t n;
  uint8_t *full = pack_ingest(PF_PROTO_VERSION, 1, &n);
  assert_true(n > 70);
  char err[256];
  Pefleet__Envelope *d = pf_msg_decode(full, n, PF_MSG_MAX_CONTROL, err, sizeof err);
  assert_non_null(d);
  pf_msg_free(d);
  /* the body is the last field, so every proper prefix is refused; each
   * prefix sits in its own allocation so ASan sees any read past it */
  for (size_t k = 0; k < n; k++) {
    uint8_t *cut = malloc(k ? k : 1);
    assert_non_null(cut);
    memcpy(cut, full, k);
    strcpy(err, "");
    d = pf_msg_decode(cut, k, PF_MSG_MAX_CONTROL, err, sizeof err);
    if (d) fail_msg("a %zu-byte prefix of a %zu-byte envelope was accepted", k, n);
    assert_one_line(err);
    if (k == 2) assert_string_equal(err, "message without a body (unknown message type?)"); /* version only */
    if (k > 2) assert_true(strncmp(err, "malformed message", 17) == 0);
    free(cut);
  }
  char want[128];
  snprintf(want, sizeof want, "malformed message (%zu bytes are not a pefleet envelope)", n - 1);
  uint8_t *cut = malloc(n - 1);
  assert_non_null(cut);
  memcpy(cut, full, n - 1);
  assert_null(pf_msg_decode(cut, n - 1, PF_MSG_MAX_CONTROL, err, sizeof err));
  assert_string_equal(err, want);
  free(cut);
  free(full);
}

static void test_reject_wrong_version(void **state) {
  char err[256] = "";
  size_t n;
  uint8_t *buf = pack_ingest(2, 1, &n);
  assert_null(pf_msg_decode(buf, n, PF_MSG_MAX_CONTROL, err, sizeof err));
  assert_string_equal(err, "unsupported schema version 2 (this build speaks 1)");
  assert_one_line(err);
  free(buf);

  buf = pack_ingest(UINT32_MAX, 1, &n);
  assert_null(pf_msg_decode(buf, n, PF_MSG_MAX_CONTROL, err, sizeof err));
  assert_string_equal(err, "unsupported schema version 4294967295 (this build speaks 1)");
  free(buf);

  /* version 0 is what an envelope that forgot to set it says */
  buf = pack_ingest(0, 1, &n);
  assert_null(pf_msg_decode(buf, n, PF_MSG_MAX_CONTROL, err, sizeof err));
  assert_non_null(strstr(err, "unsupported schema version 0"));
  free(buf);

  /* and the same request with version 1 is fine */
  buf = pack_ingest(PF_PROTO_VERSION, 1, &n);
  Pefleet__Envelope *d = pf_msg_decode(buf, n, PF_MSG_MAX_CONTROL, err, sizeof err);
  assert_non_null(d);
  assert_string_equal(d->ingest->label, "clean");
  pf_msg_free(d);
  free(buf);
}

static void test_reject_no_body(void **state) {
  char err[256] = "";
  size_t n;
  uint8_t *buf = pack_ingest(PF_PROTO_VERSION, 0, &n);
  assert_int_equal(n, 2); /* just the version field */
  assert_null(pf_msg_decode(buf, n, PF_MSG_MAX_CONTROL, err, sizeof err));
  assert_string_equal(err, "message without a body (unknown message type?)");
  assert_one_line(err);
  free(buf);

  /* a body field this build does not know (field 15, a string) is skipped
   * by protobuf, which leaves no body: also refused */
  const uint8_t unknown[] = {0x08, 0x01, 0x7a, 0x03, 'a', 'b', 'c'};
  assert_null(pf_msg_decode(unknown, sizeof unknown, PF_MSG_MAX_CONTROL, err, sizeof err));
  assert_string_equal(err, "message without a body (unknown message type?)");

  /* a reason is cut to the buffer given, still terminated */
  char small[12];
  memset(small, 'x', sizeof small);
  assert_null(pf_msg_decode(unknown, sizeof unknown, PF_MSG_MAX_CONTROL, small, sizeof small));
  assert_string_equal(small, "message wit");

  /* pf_msg_free takes NULL */
  pf_msg_free(NULL);
}

/* ---- pf_zmq over a real inproc ROUTER/DEALER pair ---- */

typedef struct {
  void *ctx, *router, *dealer;
} zpair;

static int zpair_setup(void **state) {
  static int k;
  zpair *z = calloc(1, sizeof *z);
  if (!z) return -1;
  char ep[64];
  snprintf(ep, sizeof ep, "inproc://test-msg-%d", k++);
  z->ctx = zmq_ctx_new();
  z->router = zmq_socket(z->ctx, ZMQ_ROUTER);
  z->dealer = zmq_socket(z->ctx, ZMQ_DEALER);
  int zero = 0, tmo = 2000;
  void *socks[2] = {z->router, z->dealer};
  for (int i = 0; i < 2; i++) {
    zmq_setsockopt(socks[i], ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(socks[i], ZMQ_RCVTIMEO, &tmo, sizeof tmo); /* a lost message fails, never hangs */
  }
  zmq_setsockopt(z->dealer, ZMQ_ROUTING_ID, "dealer-1", 8);
  if (zmq_bind(z->router, ep) != 0 || zmq_connect(z->dealer, ep) != 0) return -1;
  *state = z;
  return 0;
}

static int zpair_teardown(void **state) {
  zpair *z = *state;
  zmq_close(z->dealer);
  zmq_close(z->router);
  zmq_ctx_term(z->ctx);
  free(z);
  return 0;
}

static void make_job(Pefleet__Envelope *env, Pefleet__EncodeJob *job, const char *sha, uint32_t attempt) {
  pefleet__encode_job__init(job);
  job->sha256 = (char *)sha;
  job->attempt = attempt;
  pefleet__envelope__init(env);
  env->body_case = PEFLEET__ENVELOPE__BODY_JOB;
  env->job = job;
}

/* Decodes frame i of f as an envelope (test fails when it is not one). */
static Pefleet__Envelope *frame_env(pf_zframes *f, int i) {
  char err[256] = "";
  Pefleet__Envelope *e =
      pf_msg_decode(zmq_msg_data(&f->part[i]), zmq_msg_size(&f->part[i]), PF_MSG_MAX_CONTROL, err, sizeof err);
  if (!e) fail_msg("frame %d is not an envelope: %s", i, err);
  return e;
}

static void test_zmq_roundtrip(void **state) {
  zpair *z = *state;
  Pefleet__Envelope env;
  Pefleet__EncodeJob job;
  pf_zframes f;

  /* nothing there yet */
  errno = 0;
  assert_int_equal(pf_zrecv(z->router, &f, ZMQ_DONTWAIT), PF_EIO);
  assert_int_equal(errno, EAGAIN);
  assert_int_equal(f.n, 0);
  pf_zframes_close(&f);

  /* DEALER -> ROUTER, no delimiter: [id][envelope] */
  make_job(&env, &job, SHA_A, 1);
  assert_int_equal(pf_zsend_env(z->dealer, NULL, 0, 0, &env), PF_OK);
  assert_int_equal(pf_zrecv(z->router, &f, 0), PF_OK);
  assert_int_equal(f.n, 2);
  assert_int_equal(f.dropped, 0);
  assert_int_equal(zmq_msg_size(&f.part[0]), 8);
  assert_memory_equal(zmq_msg_data(&f.part[0]), "dealer-1", 8);
  Pefleet__Envelope *e = frame_env(&f, 1);
  assert_int_equal(e->body_case, PEFLEET__ENVELOPE__BODY_JOB);
  assert_string_equal(e->job->sha256, SHA_A);
  assert_int_equal(e->job->attempt, 1);
  pf_msg_free(e);

  /* ROUTER -> DEALER with the identity, no delimiter: [envelope] */
  make_job(&env, &job, SHA_B, 2);
  assert_int_equal(pf_zsend_env(z->router, zmq_msg_data(&f.part[0]), zmq_msg_size(&f.part[0]), 0, &env), PF_OK);
  pf_zframes_close(&f);
  assert_int_equal(f.n, 0);
  pf_zframes_close(&f); /* twice is harmless */
  assert_int_equal(pf_zrecv(z->dealer, &f, 0), PF_OK);
  assert_int_equal(f.n, 1);
  e = frame_env(&f, 0);
  assert_string_equal(e->job->sha256, SHA_B);
  assert_int_equal(e->job->attempt, 2);
  pf_msg_free(e);
  pf_zframes_close(&f);

  /* DEALER -> ROUTER with the empty delimiter (as `pefleet ingest`): [id][""][envelope] */
  Pefleet__IngestRequest rq = PEFLEET__INGEST_REQUEST__INIT;
  rq.sha256 = (char *)SHA_A;
  rq.label = (char *)"clean";
  Pefleet__Envelope ienv = PEFLEET__ENVELOPE__INIT;
  ienv.body_case = PEFLEET__ENVELOPE__BODY_INGEST;
  ienv.ingest = &rq;
  assert_int_equal(pf_zsend_env(z->dealer, NULL, 0, 1, &ienv), PF_OK);
  assert_int_equal(pf_zrecv(z->router, &f, 0), PF_OK);
  assert_int_equal(f.n, 3);
  assert_int_equal(zmq_msg_size(&f.part[1]), 0);
  e = frame_env(&f, 2);
  assert_int_equal(e->body_case, PEFLEET__ENVELOPE__BODY_INGEST);
  assert_string_equal(e->ingest->label, "clean");
  pf_msg_free(e);

  /* ROUTER -> DEALER with identity and delimiter: [""][envelope] */
  Pefleet__IngestAck ack = PEFLEET__INGEST_ACK__INIT;
  ack.sha256 = (char *)SHA_A;
  ack.status = PEFLEET__INGEST_STATUS__INGEST_QUEUED;
  Pefleet__Envelope aenv = PEFLEET__ENVELOPE__INIT;
  aenv.body_case = PEFLEET__ENVELOPE__BODY_INGEST_ACK;
  aenv.ingest_ack = &ack;
  assert_int_equal(pf_zsend_env(z->router, zmq_msg_data(&f.part[0]), zmq_msg_size(&f.part[0]), 1, &aenv), PF_OK);
  pf_zframes_close(&f);
  assert_int_equal(pf_zrecv(z->dealer, &f, 0), PF_OK);
  assert_int_equal(f.n, 2);
  assert_int_equal(zmq_msg_size(&f.part[0]), 0);
  e = frame_env(&f, 1);
  assert_int_equal(e->ingest_ack->status, PEFLEET__INGEST_STATUS__INGEST_QUEUED);
  pf_msg_free(e);
  pf_zframes_close(&f);

  /* a ROUTER_MANDATORY socket reports a peer that is not there */
  int one = 1;
  zmq_setsockopt(z->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
  errno = 0;
  assert_int_equal(pf_zsend_env(z->router, "nobody", 6, 0, &env), PF_EIO);
  assert_int_equal(errno, EHOSTUNREACH);
}

static void send_frames(void *sock, int k) {
  for (int i = 0; i < k; i++) {
    char b[8];
    int n = snprintf(b, sizeof b, "f%d", i);
    assert_int_equal(zmq_send(sock, b, (size_t)n, i + 1 < k ? ZMQ_SNDMORE : 0), n);
  }
}

static void test_zmq_frame_cap(void **state) {
  zpair *z = *state;
  pf_zframes f;
  Pefleet__Envelope env;
  Pefleet__EncodeJob job;

  /* exactly the cap: [id] + 3 frames is fine */
  send_frames(z->dealer, PF_ZMQ_MAX_FRAMES - 1);
  assert_int_equal(pf_zrecv(z->router, &f, 0), PF_OK);
  assert_int_equal(f.n, PF_ZMQ_MAX_FRAMES);
  assert_int_equal(f.dropped, 0);
  assert_int_equal(zmq_msg_size(&f.part[3]), 2);
  assert_memory_equal(zmq_msg_data(&f.part[3]), "f2", 2);
  pf_zframes_close(&f);

  /* over the cap, followed by a good message: the long one is refused and
   * consumed whole, the good one arrives intact right after it */
  int k = 3 * PF_ZMQ_MAX_FRAMES + 1;
  send_frames(z->dealer, k);
  make_job(&env, &job, SHA_A, 5);
  assert_int_equal(pf_zsend_env(z->dealer, NULL, 0, 0, &env), PF_OK);
  assert_int_equal(pf_zrecv(z->router, &f, 0), PF_ELIMIT);
  assert_int_equal(f.n + f.dropped, k + 1); /* + the identity frame */
  assert_int_equal(f.n, 0);                 /* nothing left to release */
  pf_zframes_close(&f);
  assert_int_equal(pf_zrecv(z->router, &f, ZMQ_DONTWAIT), PF_OK);
  assert_int_equal(f.n, 2);
  Pefleet__Envelope *e = frame_env(&f, 1);
  assert_int_equal(e->job->attempt, 5);
  pf_msg_free(e);
  pf_zframes_close(&f);
  errno = 0;
  assert_int_equal(pf_zrecv(z->router, &f, ZMQ_DONTWAIT), PF_EIO);
  assert_int_equal(errno, EAGAIN);

  /* the DEALER side caps too: [""] * 9 from the ROUTER */
  assert_int_equal(zmq_send(z->router, "dealer-1", 8, ZMQ_SNDMORE), 8);
  for (int i = 0; i < 9; i++) assert_int_equal(zmq_send(z->router, "", 0, i < 8 ? ZMQ_SNDMORE : 0), 0);
  assert_int_equal(pf_zrecv(z->dealer, &f, 0), PF_ELIMIT);
  assert_int_equal(f.dropped, 9);
  assert_int_equal(pf_zrecv(z->dealer, &f, ZMQ_DONTWAIT), PF_EIO);
  assert_int_equal(errno, EAGAIN);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_roundtrip_ingest),
    cmocka_unit_test(test_roundtrip_ingest_ack),
    cmocka_unit_test(test_roundtrip_worker_messages),
    cmocka_unit_test(test_roundtrip_score),
    cmocka_unit_test(test_roundtrip_similar),
    cmocka_unit_test(test_reject_oversized_before_unpacking),
    cmocka_unit_test(test_reject_random_garbage),
    cmocka_unit_test(test_reject_truncated),
    cmocka_unit_test(test_reject_wrong_version),
    cmocka_unit_test(test_reject_no_body),
    cmocka_unit_test_setup_teardown(test_zmq_roundtrip, zpair_setup, zpair_teardown),
    cmocka_unit_test_setup_teardown(test_zmq_frame_cap, zpair_setup, zpair_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

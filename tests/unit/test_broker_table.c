/* Unit tests of the broker's worker table (broker/broker_table.c, compiled
 * in: broker/ is not in the library): the jobs a worker holds, and the
 * reconciliation with the list its heartbeat carries, which must take a
 * job off the worker only when two lists in a row lack it (one may have
 * been sent before the job arrived). */
#include "pf_test.h"

#include "../../broker/broker_table.c"

static void sha_of(int k, char out[PF_SHA256_HEX_LEN + 1]) {
  for (int i = 0; i < PF_SHA256_HEX_LEN; i++) out[i] = "0123456789abcdef"[(k * 7 + i) % 16];
  out[PF_SHA256_HEX_LEN] = '\0';
}

static broker_table table;

static void test_add_remove(void **state) {
  memset(&table, 0, sizeof table);
  broker_worker *w = broker_add(&table, "w1", 2, 4, 1000);
  assert_non_null(w);
  char a[65], b[65], c[65];
  sha_of(1, a);
  sha_of(2, b);
  sha_of(3, c);
  assert_int_equal(broker_job_add(w, a), 1);
  assert_int_equal(broker_job_add(w, b), 1);
  assert_int_equal(broker_job_remove(w, c), 0);
  assert_int_equal(broker_job_remove(w, a), 1);
  assert_int_equal(w->njobs, 1);
  assert_string_equal(w->jobs[0], b);
  assert_ptr_equal(broker_find(&table, "w1", 2), w);
  broker_remove(&table, w);
  assert_null(broker_find(&table, "w1", 2));
}

static void test_reconcile_two_strikes(void **state) {
  memset(&table, 0, sizeof table);
  broker_worker *w = broker_add(&table, "w1", 2, 8, 1000);
  char a[65], b[65], c[65], lost[BROKER_MAX_CAPACITY][PF_SHA256_HEX_LEN + 1];
  sha_of(1, a);
  sha_of(2, b);
  sha_of(3, c);
  broker_job_add(w, a);
  broker_job_add(w, b);
  broker_job_add(w, c);
  char *only_a[] = {a};
  char *a_and_b[] = {a, b};
  /* b and c missing once: maybe still on their way; nothing lost */
  assert_int_equal(broker_job_reconcile(w, only_a, 1, lost), 0);
  assert_int_equal(w->njobs, 3);
  /* b arrived; c missing a second time: lost, taken off the worker */
  assert_int_equal(broker_job_reconcile(w, a_and_b, 2, lost), 1);
  assert_string_equal(lost[0], c);
  assert_int_equal(w->njobs, 2);
  /* b's strike was cleared by the list that had it */
  assert_int_equal(broker_job_reconcile(w, only_a, 1, lost), 0);
  assert_int_equal(w->njobs, 2);
  assert_int_equal(broker_job_reconcile(w, only_a, 1, lost), 1);
  assert_string_equal(lost[0], b);
  assert_int_equal(w->njobs, 1);
  assert_string_equal(w->jobs[0], a);
  /* an empty list, twice: everything lost */
  assert_int_equal(broker_job_reconcile(w, NULL, 0, lost), 0);
  assert_int_equal(broker_job_reconcile(w, NULL, 0, lost), 1);
  assert_int_equal(w->njobs, 0);
  /* a job added again starts with no strike */
  broker_job_add(w, c);
  assert_int_equal(broker_job_reconcile(w, NULL, 0, lost), 0);
  assert_int_equal(w->njobs, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_add_remove),
    cmocka_unit_test(test_reconcile_two_strikes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

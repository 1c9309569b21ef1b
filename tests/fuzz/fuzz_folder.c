/* libFuzzer target for the model folder's file parsers (lib/eval/pf_folder:
 * model.json, stats.json, history.json, roc.json, pca.json, dataset.json,
 * relevance.json, over_time.json). The first input byte picks the parser,
 * the rest is the file. Invariants: no crash, sanitizer report or leak; a
 * parse that fails leaves present 0, nothing allocated and a one-line
 * reason; one that succeeds has every count within its cap, the arrays it
 * promises and NUL-terminated strings (stats.json's "split" object too),
 * and an over_time.json that parses can be written out again. */
#include "pf_date.h"
#include "pf_err.h"
#include "pf_folder.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_why(int rc, int present, const char *why, size_t cap) {
  if ((rc == PF_OK) != (present != 0)) abort();
  if (memchr(why, '\0', cap) == NULL) abort();
  if (rc != PF_OK && (why[0] == '\0' || strchr(why, '\n'))) abort();
}

static void check_str(const char *s, size_t cap) {
  if (memchr(s, '\0', cap) == NULL) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t *buf = data + 1;
  size_t len = size - 1;
  int rc;
  switch (data[0] % 8) {
  case 0: {
    pf_folder_meta m;
    rc = pf_folder_parse_meta(buf, len, &m);
    check_why(rc, m.present, m.why, sizeof m.why);
    if (m.n_sizes > PF_MODEL_MAX_LAYERS + 1 || m.n_classes > PF_MODEL_MAX_CLASSES) abort();
    check_str(m.version, sizeof m.version);
    check_str(m.parent, sizeof m.parent);
    for (uint32_t i = 0; i < m.n_classes; i++) check_str(m.classes[i], sizeof m.classes[i]);
    for (int s = 0; s < 3; s++)
      if (m.rows[s] < -1) abort();
    break;
  }
  case 1: {
    pf_folder_stats s;
    rc = pf_folder_parse_stats(buf, len, &s);
    check_why(rc, s.present, s.why, sizeof s.why);
    for (int k = 0; k < 3; k++) {
      const pf_folder_split *p = &s.s[k];
      if (p->present && !p->exists) abort();
      for (int c = 0; c < 2; c++) check_str(p->classes[c], sizeof p->classes[c]);
      if (p->present)
        for (int r = 0; r < 2; r++)
          for (int c = 0; c < 2; c++)
            if (!(p->cm[r][c] >= 0 && p->cm[r][c] < 1e15)) abort();
    }
    /* "split": counts in [0, 1e15), times 0 or within pf_date's range */
    const pf_folder_split_info *si = &s.split;
    if (!si->present && (si->time || si->from_csv || si->test_since || si->data_end)) abort();
    for (int k = 0; k < 3; k++) {
      if (si->r[k].n >= (size_t)1e15) abort();
      if ((si->r[k].first && si->r[k].first < PF_DATE_MIN) || si->r[k].first > PF_DATE_MAX) abort();
      if ((si->r[k].last && si->r[k].last < PF_DATE_MIN) || si->r[k].last > PF_DATE_MAX) abort();
    }
    if ((si->data_end && si->data_end < PF_DATE_MIN) || si->data_end > PF_DATE_MAX) abort();
    break;
  }
  case 2: {
    pf_folder_history h;
    rc = pf_folder_parse_history(buf, len, &h);
    check_why(rc, h.present, h.why, sizeof h.why);
    if (rc == PF_OK) {
      if (h.n == 0 || h.n > PF_FOLDER_MAX_POINTS || !h.loss || !h.acc || !h.val_loss || !h.val_acc) abort();
      double sum = 0;
      for (size_t i = 0; i < h.n; i++) sum += h.loss[i] + h.acc[i] + h.val_loss[i] + h.val_acc[i];
      for (size_t i = 0; h.seconds && i < h.n; i++) sum += h.seconds[i];
      (void)sum;
    } else if (h.loss || h.acc || h.val_loss || h.val_acc || h.seconds) {
      abort();
    }
    pf_folder_history_free(&h);
    break;
  }
  case 3: {
    pf_folder_roc r;
    rc = pf_folder_parse_roc(buf, len, &r);
    check_why(rc, r.present, r.why, sizeof r.why);
    if (rc == PF_OK) {
      if (r.n < 2 || r.n > PF_FOLDER_MAX_POINTS || !r.fpr || !r.tpr || r.nop < 0 || r.nop > 3) abort();
      for (size_t i = 0; i < r.n; i++) {
        volatile double x = r.fpr[i] + r.tpr[i] + (r.threshold ? r.threshold[i] : 0);
        (void)x;
        if (r.threshold && isnan(r.threshold[i])) abort(); /* null reads as +infinity */
      }
      check_str(r.split, sizeof r.split);
      for (int i = 0; i < r.nop; i++) check_str(r.op[i].name, sizeof r.op[i].name);
    } else if (r.fpr || r.tpr || r.threshold) {
      abort();
    }
    pf_folder_roc_free(&r);
    break;
  }
  case 4: {
    pf_folder_pca p;
    rc = pf_folder_parse_pca(buf, len, &p);
    check_why(rc, p.present, p.why, sizeof p.why);
    if (rc == PF_OK) {
      if (p.n > PF_FOLDER_MAX_POINTS || p.k == 0 || p.k > PF_FOLDER_MAX_K || !p.pc1 || !p.pc2 || !p.label) abort();
      for (size_t i = 0; i < p.n; i++)
        if (p.label[i] != 0 && p.label[i] != 1) abort();
    } else if (p.pc1 || p.pc2 || p.label) {
      abort();
    }
    pf_folder_pca_free(&p);
    break;
  }
  case 5: {
    pf_folder_source s;
    rc = pf_folder_parse_source(buf, len, &s);
    check_why(rc, s.present, s.why, sizeof s.why);
    check_str(s.source, sizeof s.source);
    check_str(s.path, sizeof s.path);
    check_str(s.split, sizeof s.split);
    break;
  }
  case 6: {
    pf_folder_relevance r;
    rc = pf_folder_parse_relevance(buf, len, &r);
    check_why(rc, r.present, r.why, sizeof r.why);
    if (rc == PF_OK) {
      if (r.n == 0 || r.n > PF_FOLDER_MAX_FEATURES || !r.f) abort();
      for (size_t i = 0; i < r.n; i++) check_str(r.f[i].name, sizeof r.f[i].name);
    } else if (r.f) {
      abort();
    }
    pf_folder_relevance_free(&r);
    break;
  }
  default: {
    pf_folder_over_time o;
    rc = pf_folder_parse_over_time(buf, len, &o);
    check_why(rc, o.present, o.why, sizeof o.why);
    if (rc == PF_OK) {
      if (o.n > PF_FOLDER_MAX_PERIODS || !o.p) abort();
      for (size_t i = 0; i < o.n; i++) {
        check_str(o.p[i].label, sizeof o.p[i].label);
        check_str(o.p[i].start, sizeof o.p[i].start);
        check_str(o.p[i].end, sizeof o.p[i].end);
      }
      check_str(o.model, sizeof o.model);
      for (int c = 0; c < 2; c++) check_str(o.classes[c], sizeof o.classes[c]);
      char *txt = pf_folder_over_time_text(&o); /* what parses can be written again */
      free(txt);
    } else if (o.p) {
      abort();
    }
    pf_folder_over_time_free(&o);
    break;
  }
  }
  return 0;
}

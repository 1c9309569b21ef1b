/* Principal component analysis with LAPACK (see pf_pca.h). */
#include "pf_pca.h"
#include "pf_err.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's symmetric eigensolver (MRRR), exported by OpenBLAS. Fortran
 * calling convention: every argument by address, the lengths of the three
 * character arguments appended. */
extern void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a, const int *lda,
                    const double *vl, const double *vu, const int *il, const int *iu, const double *abstol, int *m,
                    double *w, double *z, const int *ldz, int *isuppz, double *work, const int *lwork, int *iwork,
                    const int *liwork, int *info, size_t, size_t, size_t);

#define BLOCK 256 /* rows per covariance update */

void pf_pca_free(pf_pca *p) {
  if (!p) return;
  free(p->mean); free(p->scale); free(p->axes); free(p->var);
  memset(p, 0, sizeof *p);
}

/* mean and (when standardize) 1/stddev of every column; PF_EINVAL on a
 * non-finite value. */
static int moments(const float *x, size_t n, size_t dim, int standardize, double *mean, double *scale) {
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < dim; j++) {
      if (!isfinite(x[i * dim + j])) return PF_EINVAL;
      mean[j] += x[i * dim + j];
    }
  for (size_t j = 0; j < dim; j++) { mean[j] /= (double)n; scale[j] = 1.0; }
  if (!standardize) return PF_OK;
  for (size_t j = 0; j < dim; j++) scale[j] = 0.0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < dim; j++) {
      double d = x[i * dim + j] - mean[j];
      scale[j] += d * d;
    }
  for (size_t j = 0; j < dim; j++) {
    double sd = sqrt(scale[j] / (double)(n - 1));
    scale[j] = sd > 0 ? 1.0 / sd : 0.0;
  }
  return PF_OK;
}

/* cov (dim x dim, full) = sum of centred, scaled rows' outer products / (n-1). */
static int covariance(const float *x, size_t n, size_t dim, const double *mean, const double *scale, double *cov) {
  double *blk = malloc(BLOCK * dim * sizeof *blk);
  if (!blk) return PF_ENOMEM;
  for (size_t r0 = 0; r0 < n; r0 += BLOCK) {
    size_t rows = n - r0 < BLOCK ? n - r0 : BLOCK;
    for (size_t i = 0; i < rows; i++)
      for (size_t j = 0; j < dim; j++) blk[i * dim + j] = (x[(r0 + i) * dim + j] - mean[j]) * scale[j];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)dim, (int)rows, 1.0, blk, (int)dim, 1.0, cov, (int)dim);
  }
  free(blk);
  for (size_t i = 0; i < dim; i++)
    for (size_t j = i; j < dim; j++) {
      cov[i * dim + j] /= (double)(n - 1);
      cov[j * dim + i] = cov[i * dim + j];
    }
  return PF_OK;
}

/* The k largest eigenpairs of the symmetric cov into p->var / p->axes. */
static int eigen(double *cov, size_t dim, size_t k, pf_pca *p) {
  int n = (int)dim, il = (int)(dim - k + 1), iu = (int)dim, m = 0, info = 0, lwork = -1, liwork = -1, iwq = 0;
  double vl = 0, vu = 0, abstol = 0, wq = 0;
  double *w = malloc(dim * sizeof *w), *z = malloc(dim * k * sizeof *z);
  int *isuppz = malloc(2 * k * sizeof *isuppz);
  int rc = PF_ENOMEM;
  double *work = NULL;
  int *iwork = NULL;
  if (!w || !z || !isuppz) goto out;
  /* workspace query, then the solve */
  dsyevr_("V", "I", "U", &n, cov, &n, &vl, &vu, &il, &iu, &abstol, &m, w, z, &n, isuppz, &wq, &lwork, &iwq, &liwork,
          &info, 1, 1, 1);
  if (info != 0) { rc = PF_EIO; goto out; }
  lwork = (int)wq;
  liwork = iwq;
  work = malloc((size_t)lwork * sizeof *work);
  iwork = malloc((size_t)liwork * sizeof *iwork);
  if (!work || !iwork) goto out;
  dsyevr_("V", "I", "U", &n, cov, &n, &vl, &vu, &il, &iu, &abstol, &m, w, z, &n, isuppz, work, &lwork, iwork, &liwork,
          &info, 1, 1, 1);
  if (info != 0 || (size_t)m != k) { rc = PF_EIO; goto out; }
  /* LAPACK returns ascending eigenvalues, eigenvectors as columns of z */
  for (size_t c = 0; c < k; c++) {
    size_t col = k - 1 - c;
    const double *v = z + col * dim;
    size_t big = 0;
    for (size_t j = 1; j < dim; j++)
      if (fabs(v[j]) > fabs(v[big])) big = j;
    double sign = v[big] < 0 ? -1.0 : 1.0;
    for (size_t j = 0; j < dim; j++) p->axes[c * dim + j] = sign * v[j];
    p->var[c] = w[col] > 0 ? w[col] : 0.0;
  }
  rc = PF_OK;
out:
  free(w); free(z); free(isuppz); free(work); free(iwork);
  return rc;
}

int pf_pca_fit(const float *x, size_t n, size_t dim, size_t k, int standardize, pf_pca *p) {
  if (!p) return PF_EINVAL;
  memset(p, 0, sizeof *p);
  if (!x || n < 2 || dim == 0 || k == 0 || k > dim || k > PF_PCA_MAX_K || n > (size_t)0x7fffffff) return PF_EINVAL;
  if (dim > PF_PCA_MAX_DIM) return PF_ELIMIT;
  p->dim = dim;
  p->k = k;
  p->n = n;
  p->mean = calloc(dim, sizeof *p->mean);
  p->scale = calloc(dim, sizeof *p->scale);
  p->axes = calloc(k * dim, sizeof *p->axes);
  p->var = calloc(k, sizeof *p->var);
  double *cov = calloc(dim * dim, sizeof *cov);
  int rc = PF_ENOMEM;
  if (!p->mean || !p->scale || !p->axes || !p->var || !cov) goto out;
  if ((rc = moments(x, n, dim, standardize, p->mean, p->scale)) != PF_OK) goto out;
  if ((rc = covariance(x, n, dim, p->mean, p->scale, cov)) != PF_OK) goto out;
  for (size_t j = 0; j < dim; j++) p->total_var += cov[j * dim + j];
  rc = eigen(cov, dim, k, p);
out:
  free(cov);
  if (rc != PF_OK) pf_pca_free(p);
  return rc;
}

int pf_pca_project(const pf_pca *p, const float *x, size_t n, size_t ncomp, double *out) {
  if (!p || !p->axes || (!x && n) || (!out && n) || ncomp == 0 || ncomp > p->k) return PF_EINVAL;
  for (size_t i = 0; i < n; i++)
    for (size_t c = 0; c < ncomp; c++) {
      double s = 0;
      for (size_t j = 0; j < p->dim; j++) s += (x[i * p->dim + j] - p->mean[j]) * p->scale[j] * p->axes[c * p->dim + j];
      out[i * ncomp + c] = s;
    }
  return PF_OK;
}

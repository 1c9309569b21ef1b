/* pf_pca: owns principal component analysis of a float32 feature matrix.
 * Defines pf_pca (mean, optional per-feature scale, the leading principal
 * axes and their variances) fitted with LAPACK's dsyevr through OpenBLAS on
 * the covariance matrix, and projection of rows onto the axes.
 * Called by `pefleet train` (pca.json for the report) and its unit test. */
#ifndef PF_PCA_H
#define PF_PCA_H

#include <stddef.h>

#define PF_PCA_MAX_DIM 4096u  /* widest input: the covariance is dim x dim doubles */
#define PF_PCA_MAX_K 64u      /* most components kept */

typedef struct {
  size_t dim, k;      /* input width, components kept */
  size_t n;           /* rows the fit saw */
  double *mean;       /* dim */
  double *scale;      /* dim: 1/stddev when standardized (0 for a constant
                         feature), else all 1 */
  double *axes;       /* k x dim, row c = unit axis c, largest variance first;
                         sign fixed so the largest-magnitude entry is positive */
  double *var;        /* k: variance along each axis (eigenvalues, n-1 denominator) */
  double total_var;   /* trace of the covariance: the sum over all dim eigenvalues */
} pf_pca;

/* Fits k components (1..min(dim, PF_PCA_MAX_K)) to n >= 2 rows of x (n x
 * dim, row-major). standardize = 1 scales every feature to unit variance
 * first (a correlation PCA, for features of very different ranges).
 * Returns PF_OK; PF_EINVAL for bad sizes, a non-finite value or n < 2;
 * PF_ELIMIT for dim above PF_PCA_MAX_DIM; PF_ENOMEM; PF_EIO when LAPACK
 * reports a failure. On error *p is zeroed. Free with pf_pca_free. */
int pf_pca_fit(const float *x, size_t n, size_t dim, size_t k, int standardize, pf_pca *p);
void pf_pca_free(pf_pca *p);

/* Writes the first ncomp (<= p->k) coordinates of n rows of x into out
 * (n x ncomp). Returns PF_OK or PF_EINVAL. */
int pf_pca_project(const pf_pca *p, const float *x, size_t n, size_t ncomp, double *out);

#endif

/* cpu_kernels.c — one real kernel per task class for the live cpu backend, each the
 * repetition of a unit problem whose flop count is exact, each checked against a plain
 * reference by xpu_cpu_kernels_selftest. The gemm family (gemm, llm-prefill, conv as
 * im2col + GEMM, attention's two products) goes through OpenBLAS's cblas_dgemm, decode
 * through cblas_dgemv; fft, stencil, video and generic are our own loops. Double
 * precision throughout. hw/README.md lists the unit problems. */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu_kernels.h"

/* Unit problems (flop counts: a multiply-add is 2 flop, the LINPACK convention). */
#define GEN_T    48 /* generic: 48 x 48 tile multiply-accumulate, hand loop */
#define GEMM_N   64 /* gemm: 64 x 64 x 64 */
#define PRE_M    16 /* llm-prefill: 16 tokens x 128 hidden, times a 128 x 128 weight */
#define PRE_H    128
#define CONV_C   8 /* conv: 8 -> 8 channels, 16 x 16 image, 3 x 3 filter, padding 1 */
#define CONV_HW  16
#define ATT_L    64 /* attention: sequence 64, head dimension 32 */
#define ATT_D    32
#define DEC_ROWS 1024 /* llm-decode: a 1024 x 1024 weight (8 MiB) times a vector */
#define DEC_COLS 1024
#define FFT_LOG  12 /* fft: 4096-point complex radix-2, scaled by 1/sqrt(N) */
#define FFT_N    (1 << FFT_LOG)
#define STEN_N   128 /* stencil: one 5-point Jacobi sweep of a 128 x 128 grid */
#define VID_N    64  /* video: 8 x 8 DCT-II of every block of a 64 x 64 frame */

/* Weights streamed from memory (llm-prefill and llm-decode launches that carry bytes):
 * one read-only buffer per process, shared by every worker, opened by the backend
 * (xpu_cpu_stream_open) and meant to be larger than the machine's last-level cache, so
 * that reading it comes from memory. A launch's weight of B bytes is read as
 * consecutive STREAM_COLS-wide rows of it, from where the worker's last launch stopped,
 * wrapping around; products take at most STREAM_ROWS rows and STREAM_TOKENS tokens at
 * once. */
#define STREAM_COLS   1024
#define STREAM_ROWS   1024
#define STREAM_TOKENS 256

static pthread_mutex_t stream_lock = PTHREAD_MUTEX_INITIALIZER;
static int stream_refs;
static double *stream_w;    /* stream_nrows x STREAM_COLS, NULL when none */
static size_t stream_nrows; /* set while stream_w is, read by the workers */

struct cpu_kernels {
	double *buf[XPU_CLASS_COUNT]; /* each class's inputs and outputs, one allocation */
	double *sx, *sy;              /* streamed products: tokens in, results out */
	size_t cursor;                /* the next row of stream_w this worker reads */
	int flip;                     /* stencil: which grid holds the current state */
	volatile double sink;         /* keeps every repetition's result observable */
	double dct[64];               /* video: the 8 x 8 DCT-II matrix */
	double *tw;                   /* fft: twiddle factors (cos, sin) */
};

/* Doubles each class's buffer holds. */
static size_t buf_len(int cls)
{
	switch (cls) {
	case XPU_CLASS_GEMM:
		return 3 * GEMM_N * GEMM_N;
	case XPU_CLASS_LLM_PREFILL:
		return PRE_M * PRE_H + PRE_H * PRE_H + PRE_M * PRE_H;
	case XPU_CLASS_CONV: /* input, weights, im2col, output */
		return CONV_C * CONV_HW * CONV_HW + CONV_C * CONV_C * 9 +
		       CONV_C * 9 * CONV_HW * CONV_HW + CONV_C * CONV_HW * CONV_HW;
	case XPU_CLASS_ATTENTION: /* Q, K, V, S, O */
		return 3 * ATT_L * ATT_D + ATT_L * ATT_L + ATT_L * ATT_D;
	case XPU_CLASS_LLM_DECODE:
		return (size_t)DEC_ROWS * DEC_COLS + DEC_COLS + DEC_ROWS;
	case XPU_CLASS_FFT:
		return 2 * FFT_N;
	case XPU_CLASS_STENCIL:
		return 2 * STEN_N * STEN_N;
	case XPU_CLASS_VIDEO:
		return 2 * VID_N * VID_N + VID_N * VID_N / 8; /* frame, coefficients, scratch */
	default:
		return 3 * GEN_T * GEN_T;
	}
}

double xpu_cpu_kernel_flops(int cls)
{
	switch (cls) {
	case XPU_CLASS_GEMM:
		return 2.0 * GEMM_N * GEMM_N * GEMM_N;
	case XPU_CLASS_LLM_PREFILL:
		return 2.0 * PRE_M * PRE_H * PRE_H;
	case XPU_CLASS_CONV:
		return 2.0 * CONV_C * CONV_C * 9 * CONV_HW * CONV_HW;
	case XPU_CLASS_ATTENTION: /* two products, and the softmax's max, exp, sum, divide */
		return 4.0 * ATT_L * ATT_L * ATT_D + 5.0 * ATT_L * ATT_L;
	case XPU_CLASS_LLM_DECODE:
		return 2.0 * DEC_ROWS * DEC_COLS;
	case XPU_CLASS_FFT: /* the usual 5 N log2 N, and the scaling */
		return 5.0 * FFT_N * FFT_LOG + 2.0 * FFT_N;
	case XPU_CLASS_STENCIL: /* four additions and a multiplication per interior point */
		return 5.0 * (STEN_N - 2) * (STEN_N - 2);
	case XPU_CLASS_VIDEO: /* two 8 x 8 x 8 products per block */
		return 2.0 * 2.0 * 512 * (VID_N / 8) * (VID_N / 8);
	default:
		return 2.0 * GEN_T * GEN_T * GEN_T;
	}
}

double xpu_cpu_kernel_bytes(int cls)
{
	return 8.0 * (double)buf_len(cls);
}

const char *xpu_cpu_kernel_name(int cls)
{
	switch (cls) {
	case XPU_CLASS_GEMM:
		return "cblas_dgemm 64 x 64 x 64 (OpenBLAS)";
	case XPU_CLASS_LLM_PREFILL:
		return "cblas_dgemm 16 tokens x 128 x 128 (OpenBLAS)";
	case XPU_CLASS_CONV:
		return "3 x 3 convolution, 8 -> 8 channels, 16 x 16, im2col + cblas_dgemm";
	case XPU_CLASS_ATTENTION:
		return "softmax(Q K^T / sqrt(d)) V, L 64, d 32, two cblas_dgemm";
	case XPU_CLASS_LLM_DECODE:
		return "cblas_dgemv 1024 x 1024 (an 8 MiB weight per repetition)";
	case XPU_CLASS_FFT:
		return "4096-point complex radix-2 FFT, scaled by 1/sqrt(N)";
	case XPU_CLASS_STENCIL:
		return "5-point Jacobi sweep, 128 x 128";
	case XPU_CLASS_VIDEO:
		return "8 x 8 DCT-II of each block of a 64 x 64 frame";
	default:
		return "48 x 48 tile multiply-accumulate (hand loop)";
	}
}

/* ------------------------------------------------------------------ inputs */

/* Deterministic inputs in [0.001, 0.01): small enough that no repetition overflows or
 * goes denormal, different enough that a wrong index shows. */
static double input(size_t i, int salt)
{
	return 1e-3 * (double)(1 + (i * 7 + (size_t)salt * 13) % 9);
}

static void init_class(struct cpu_kernels *k, int cls)
{
	double *b = k->buf[cls];
	size_t n = buf_len(cls);
	for (size_t i = 0; i < n; i++)
		b[i] = input(i, cls);
	switch (cls) {
	case XPU_CLASS_FFT:
		for (size_t i = 0; i < 2 * FFT_N; i++) /* a signal around zero */
			b[i] = sin(0.01 * (double)i) + 0.25 * cos(0.37 * (double)i);
		break;
	case XPU_CLASS_STENCIL:
		k->flip = 0;
		break;
	default:
		break;
	}
}

static int ensure(struct cpu_kernels *k, int cls)
{
	if (k->buf[cls])
		return 0;
	double *b = NULL;
	if (posix_memalign((void **)&b, 64, buf_len(cls) * sizeof(double)))
		return -ENOMEM;
	k->buf[cls] = b;
	if (cls == XPU_CLASS_FFT && !k->tw) {
		k->tw = malloc(sizeof(double) * FFT_N);
		if (!k->tw)
			return -ENOMEM;
		for (int i = 0; i < FFT_N / 2; i++) {
			k->tw[2 * i] = cos(-2.0 * M_PI * i / FFT_N);
			k->tw[2 * i + 1] = sin(-2.0 * M_PI * i / FFT_N);
		}
	}
	init_class(k, cls);
	return 0;
}

struct cpu_kernels *xpu_cpu_kernels_new(void)
{
	/* Each worker is one core: OpenBLAS must not start threads of its own. */
	openblas_set_num_threads(1);
	struct cpu_kernels *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	for (int u = 0; u < 8; u++) /* DCT-II, orthonormal */
		for (int x = 0; x < 8; x++)
			k->dct[u * 8 + x] =
			    (u ? sqrt(2.0 / 8) : sqrt(1.0 / 8)) * cos((2 * x + 1) * u * M_PI / 16);
	return k;
}

void xpu_cpu_kernels_free(struct cpu_kernels *k)
{
	if (!k)
		return;
	for (int c = 0; c < XPU_CLASS_COUNT; c++)
		free(k->buf[c]);
	free(k->tw);
	free(k->sx);
	free(k->sy);
	free(k);
}

/* ------------------------------------------------------------------ one repetition */

static void rep_generic(double *b, int rows)
{
	double *restrict c = b + 2 * GEN_T * GEN_T;
	const double *restrict a = b, *restrict bb = b + GEN_T * GEN_T;
	/* i-k-j order: the inner loop streams rows of B and C, which vectorises; C
	 * accumulates across repetitions (the tiles stay in a core's L2). */
	for (int i = 0; i < rows; i++)
		for (int kk = 0; kk < GEN_T; kk++) {
			double aik = a[i * GEN_T + kk];
			for (int j = 0; j < GEN_T; j++)
				c[i * GEN_T + j] += aik * bb[kk * GEN_T + j];
		}
}

/* C = A B + beta C for the first rows of A and C: beta 0.5 keeps C bounded over
 * repetitions (it tends to 2 A B). */
static void rep_gemm(double *b, int m, int n, int kk, double beta, int rows)
{
	const double *a = b, *bb = b + m * kk;
	double *c = b + m * kk + kk * n;
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n, kk, 1.0, a, kk, bb, n, beta,
	            c, n);
}

static void rep_conv(double *b, int cols)
{
	const int hw = CONV_HW * CONV_HW, ck = CONV_C * 9;
	const double *in = b, *w = b + CONV_C * hw;
	double *col = b + CONV_C * hw + CONV_C * ck, *out = col + ck * hw;
	/* im2col: row (c, dy, dx), column (y, x) = in[c][y+dy-1][x+dx-1], 0 outside */
	for (int c = 0; c < CONV_C; c++)
		for (int dy = 0; dy < 3; dy++)
			for (int dx = 0; dx < 3; dx++) {
				double *row = col + ((c * 3 + dy) * 3 + dx) * hw;
				for (int y = 0; y < CONV_HW; y++)
					for (int x = 0; x < CONV_HW; x++) {
						int sy = y + dy - 1, sx = x + dx - 1;
						row[y * CONV_HW + x] =
						    sy < 0 || sx < 0 || sy >= CONV_HW ||
						            sx >= CONV_HW
						        ? 0.0
						        : in[(c * CONV_HW + sy) * CONV_HW + sx];
					}
			}
	/* the first cols output pixels of every channel */
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, CONV_C, cols, ck, 1.0, w, ck, col,
	            hw, 0.0, out, hw);
}

static void rep_attention(double *b, int rows)
{
	const double *q = b, *kk = b + ATT_L * ATT_D, *v = b + 2 * ATT_L * ATT_D;
	double *s = b + 3 * ATT_L * ATT_D, *o = s + ATT_L * ATT_L;
	/* the first rows queries */
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, ATT_L, ATT_D,
	            1.0 / sqrt((double)ATT_D), q, ATT_D, kk, ATT_D, 0.0, s, ATT_L);
	for (int i = 0; i < rows; i++) {
		double *r = s + i * ATT_L, mx = r[0], sum = 0;
		for (int j = 1; j < ATT_L; j++)
			mx = r[j] > mx ? r[j] : mx;
		for (int j = 0; j < ATT_L; j++) {
			r[j] = exp(r[j] - mx);
			sum += r[j];
		}
		for (int j = 0; j < ATT_L; j++)
			r[j] /= sum;
	}
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, ATT_D, ATT_L, 1.0, s, ATT_L, v,
	            ATT_D, 0.0, o, ATT_D);
}

static void rep_decode(double *b, int rows)
{
	const double *w = b, *x = b + (size_t)DEC_ROWS * DEC_COLS;
	double *y = (double *)x + DEC_COLS;
	cblas_dgemv(CblasRowMajor, CblasNoTrans, rows, DEC_COLS, 1.0, w, DEC_COLS, x, 1, 0.0, y, 1);
}

/* In place, iterative radix-2 decimation in time; x holds n = 2^lg (re, im) pairs; tw
 * holds the FFT_N-point twiddles, of which every (FFT_N / n)-th serves. */
static void rep_fft(double *x, const double *tw, int lg)
{
	const unsigned n = 1u << lg, stride = FFT_N / n;
	for (unsigned i = 1, j = 0; i < n; i++) { /* bit reversal */
		unsigned bit = n >> 1;
		for (; j & bit; bit >>= 1)
			j ^= bit;
		j |= bit;
		if (i < j) {
			double r = x[2 * i], m = x[2 * i + 1];
			x[2 * i] = x[2 * j];
			x[2 * i + 1] = x[2 * j + 1];
			x[2 * j] = r;
			x[2 * j + 1] = m;
		}
	}
	for (unsigned len = 2; len <= n; len <<= 1) {
		unsigned half = len / 2, step = n / len * stride;
		for (unsigned s = 0; s < n; s += len)
			for (unsigned k = 0; k < half; k++) {
				double wr = tw[2 * k * step], wi = tw[2 * k * step + 1];
				double *p = x + 2 * (s + k), *q = x + 2 * (s + k + half);
				double tr = wr * q[0] - wi * q[1], ti = wr * q[1] + wi * q[0];
				q[0] = p[0] - tr;
				q[1] = p[1] - ti;
				p[0] += tr;
				p[1] += ti;
			}
	}
	const double scale = 1.0 / sqrt((double)n); /* unitary: repetitions stay bounded */
	for (unsigned i = 0; i < 2 * n; i++)
		x[i] *= scale;
}

static void rep_stencil(struct cpu_kernels *k, int rows)
{
	double *g = k->buf[XPU_CLASS_STENCIL];
	const double *src = g + (k->flip ? STEN_N * STEN_N : 0);
	double *dst = g + (k->flip ? 0 : STEN_N * STEN_N);
	for (int y = 1; y < 1 + rows; y++)
		for (int x = 1; x < STEN_N - 1; x++) {
			int i = y * STEN_N + x;
			dst[i] = 0.2 * (src[i] + src[i - 1] + src[i + 1] + src[i - STEN_N] +
			                src[i + STEN_N]);
		}
	k->flip ^= 1;
}

static void rep_video(struct cpu_kernels *k, int blocks)
{
	const double *f = k->buf[XPU_CLASS_VIDEO], *d = k->dct;
	double *out = k->buf[XPU_CLASS_VIDEO] + VID_N * VID_N;
	double *tmp = out + VID_N * VID_N;
	for (int blk = 0; blk < blocks; blk++) {
		int by = blk / (VID_N / 8) * 8, bx = blk % (VID_N / 8) * 8;
		/* tmp = D X, then Y = tmp D^T */
		for (int u = 0; u < 8; u++)
			for (int x = 0; x < 8; x++) {
				double acc = 0;
				for (int y = 0; y < 8; y++)
					acc += d[u * 8 + y] * f[(by + y) * VID_N + bx + x];
				tmp[u * 8 + x] = acc;
			}
		for (int u = 0; u < 8; u++)
			for (int v = 0; v < 8; v++) {
				double acc = 0;
				for (int x = 0; x < 8; x++)
					acc += tmp[u * 8 + x] * d[v * 8 + x];
				out[(by + u) * VID_N + bx + v] = acc;
			}
	}
}

/* The rows (or columns, blocks, the FFT's log2 size) of cls's unit problem, which a
 * partial repetition runs fewer of. */
static int full_rows(int cls)
{
	switch (cls) {
	case XPU_CLASS_GEMM:
		return GEMM_N;
	case XPU_CLASS_LLM_PREFILL:
		return PRE_M;
	case XPU_CLASS_CONV:
		return CONV_HW * CONV_HW;
	case XPU_CLASS_ATTENTION:
		return ATT_L;
	case XPU_CLASS_LLM_DECODE:
		return DEC_ROWS;
	case XPU_CLASS_FFT:
		return FFT_LOG;
	case XPU_CLASS_STENCIL:
		return STEN_N - 2;
	case XPU_CLASS_VIDEO:
		return (VID_N / 8) * (VID_N / 8);
	default:
		return GEN_T;
	}
}

/* One repetition of cls over its first rows; a value of the result. */
static double rep(struct cpu_kernels *k, int cls, int rows)
{
	double *b = k->buf[cls];
	switch (cls) {
	case XPU_CLASS_GEMM:
		rep_gemm(b, GEMM_N, GEMM_N, GEMM_N, 0.5, rows);
		return b[2 * GEMM_N * GEMM_N];
	case XPU_CLASS_LLM_PREFILL:
		rep_gemm(b, PRE_M, PRE_H, PRE_H, 0.5, rows);
		return b[PRE_M * PRE_H + PRE_H * PRE_H];
	case XPU_CLASS_CONV:
		rep_conv(b, rows);
		return b[buf_len(cls) - (size_t)CONV_C * CONV_HW * CONV_HW];
	case XPU_CLASS_ATTENTION:
		rep_attention(b, rows);
		return b[buf_len(cls) - ATT_L * ATT_D];
	case XPU_CLASS_LLM_DECODE:
		rep_decode(b, rows);
		return b[buf_len(cls) - DEC_ROWS];
	case XPU_CLASS_FFT:
		rep_fft(b, k->tw, rows);
		return b[1];
	case XPU_CLASS_STENCIL:
		rep_stencil(k, rows);
		return b[STEN_N + 1] + b[STEN_N * STEN_N + STEN_N + 1];
	case XPU_CLASS_VIDEO:
		rep_video(k, rows);
		return b[VID_N * VID_N];
	default:
		rep_generic(b, rows);
		return b[2 * GEN_T * GEN_T];
	}
}

/* Rows of a partial repetition doing about frac of the unit problem's flops (at least
 * one row). */
static int part_rows(int cls, double frac)
{
	int r = (int)lround(frac * full_rows(cls));
	return r < 1 ? 1 : r > full_rows(cls) ? full_rows(cls) : r;
}

int xpu_cpu_stream_open(size_t bytes)
{
	int rc = 0;
	pthread_mutex_lock(&stream_lock);
	size_t rows = bytes / (STREAM_COLS * sizeof(double));
	if (stream_refs == 0 && rows > 0) {
		double *w = NULL;
		if (posix_memalign((void **)&w, (size_t)2 << 20,
		                   rows * STREAM_COLS * sizeof(double))) {
			rc = -ENOMEM;
		} else {
			/* huge pages where the kernel offers them: fewer faults and TLB misses */
			madvise(w, rows * STREAM_COLS * sizeof(double), MADV_HUGEPAGE);
			/* input() repeats every 9 elements: one period's multiple by hand,
			 * then copies of what is filled, doubling */
			size_t n = rows * STREAM_COLS, done = n < 9 * 64 ? n : 9 * 64;
			for (size_t i = 0; i < done; i++)
				w[i] = input(i, 5);
			for (; done < n; done *= 2)
				memcpy(w + done, w,
				       sizeof(double) * (n - done < done ? n - done : done));
			stream_w = w;
			stream_nrows = rows;
		}
	}
	if (!rc)
		stream_refs++;
	pthread_mutex_unlock(&stream_lock);
	return rc;
}

void xpu_cpu_stream_close(void)
{
	pthread_mutex_lock(&stream_lock);
	if (stream_refs > 0 && --stream_refs == 0) {
		free(stream_w);
		stream_w = NULL;
		stream_nrows = 0;
	}
	pthread_mutex_unlock(&stream_lock);
}

/* The worker's token and result buffers of streamed products. */
static int stream_ensure(struct cpu_kernels *k)
{
	if (!k->sx) {
		if (posix_memalign((void **)&k->sx, 64,
		                   sizeof(double) * STREAM_TOKENS * STREAM_COLS) ||
		    posix_memalign((void **)&k->sy, 64,
		                   sizeof(double) * STREAM_TOKENS * STREAM_ROWS))
			return -ENOMEM;
		for (size_t i = 0; i < (size_t)STREAM_TOKENS * STREAM_COLS; i++)
			k->sx[i] = input(i, 6);
	}
	return 0;
}

void xpu_cpu_stream_shape(double work, double bytes, double *rows, double *tokens)
{
	double r = ceil(bytes / (sizeof(double) * STREAM_COLS));
	*rows = r < 1 ? 1 : r;
	double t = round(work / (2.0 * *rows * STREAM_COLS));
	*tokens = t < 1 ? 1 : t;
}

/* A transformer layer's products over a streamed weight: `rows` rows of STREAM_COLS
 * (the weight the launch's bytes say, read from memory) times `tokens` token vectors
 * (one: decode's matrix-vector product; more: a batch or prefill's matrix product),
 * in blocks of at most STREAM_TOKENS tokens and STREAM_ROWS rows. */
static int run_streamed(struct cpu_kernels *k, double rows, double tokens, const int *stop)
{
	double acc = 0;
	for (double t0 = 0; t0 < tokens; t0 += STREAM_TOKENS) {
		int m = (int)fmin(STREAM_TOKENS, tokens - t0);
		for (double left = rows; left > 0;) {
			if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED))
				return k->sink += acc, -ECANCELED;
			int r =
			    (int)fmin(fmin(left, STREAM_ROWS), (double)(stream_nrows - k->cursor));
			const double *w = stream_w + k->cursor * STREAM_COLS;
			if (m == 1)
				cblas_dgemv(CblasRowMajor, CblasNoTrans, r, STREAM_COLS, 1.0, w,
				            STREAM_COLS, k->sx, 1, 0.0, k->sy, 1);
			else /* Y (m x r) = X (m x cols) W^T */
				cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, r,
				            STREAM_COLS, 1.0, k->sx, STREAM_COLS, w, STREAM_COLS,
				            0.0, k->sy, r);
			acc += k->sy[0];
			k->cursor = (k->cursor + (size_t)r) % stream_nrows;
			left -= r;
		}
	}
	k->sink += acc;
	return 0;
}

int xpu_cpu_kernel_run(struct cpu_kernels *k, int cls, double work, double bytes, const int *stop)
{
	if (cls < 0 || cls >= XPU_CLASS_COUNT)
		cls = XPU_CLASS_GENERIC;
	if (!(work > 0))
		return 0;
	if ((cls == XPU_CLASS_LLM_DECODE || cls == XPU_CLASS_LLM_PREFILL) && bytes > 0 &&
	    isfinite(bytes) && stream_w) {
		double rows, tokens;
		if (stream_ensure(k) < 0)
			return -ENOMEM;
		xpu_cpu_stream_shape(work, bytes, &rows, &tokens);
		return run_streamed(k, rows, tokens, stop);
	}
	if (ensure(k, cls) < 0)
		return -ENOMEM;
	double unit = xpu_cpu_kernel_flops(cls), acc = 0;
	double whole = floor(work / unit), frac = work / unit - whole;
	int rc = 0, rows = full_rows(cls);
	for (double r = 0; r < whole; r++) {
		if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED)) {
			rc = -ECANCELED;
			break;
		}
		acc += rep(k, cls, rows);
	}
	if (!rc && cls == XPU_CLASS_FFT) {
		/* the rest as smaller transforms, largest first: exact to an 8-point one */
		double rest = frac * unit;
		for (int lg = FFT_LOG - 1; lg >= 3; lg--) {
			double f = 5.0 * (1 << lg) * lg + 2.0 * (1 << lg);
			for (; rest >= f; rest -= f)
				acc += rep(k, cls, lg);
		}
	} else if (!rc && frac * unit >= 1.0) { /* the rest, as a smaller problem */
		acc += rep(k, cls, part_rows(cls, frac));
	}
	k->sink += acc;
	return rc;
}

/* ------------------------------------------------------------------ self-test */

static int close_enough(double got, double want)
{
	return fabs(got - want) <= 1e-9 * (fabs(want) + 1e-12) + 1e-15;
}

static int differs(char *msg, size_t len, int cls, size_t at, double got, double want)
{
	snprintf(msg, len, "cpu kernel %s (%s): element %zu is %.17g, the reference says %.17g",
	         xpu_class_name(cls), xpu_cpu_kernel_name(cls), at, got, want);
	return -EIO;
}

/* Plain row-major C = A B (m x k times k x n). */
static void ref_mm(const double *a, const double *b, double *c, int m, int n, int k)
{
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++) {
			double acc = 0;
			for (int p = 0; p < k; p++)
				acc += a[i * k + p] * b[p * n + j];
			c[i * n + j] = acc;
		}
}

static int check(const double *got, const double *want, size_t n, int cls, char *msg, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (!close_enough(got[i], want[i]))
			return differs(msg, len, cls, i, got[i], want[i]);
	return 0;
}

static int selftest_class(struct cpu_kernels *k, int cls, double *ref, char *msg, size_t len)
{
	int rc = ensure(k, cls);
	if (rc)
		return rc;
	init_class(k, cls);
	double *b = k->buf[cls];
	/* The outputs start at zero, so that one repetition gives the plain result. */
	switch (cls) {
	case XPU_CLASS_GEMM:
		memset(b + 2 * GEMM_N * GEMM_N, 0, sizeof(double) * GEMM_N * GEMM_N);
		break;
	case XPU_CLASS_LLM_PREFILL:
		memset(b + PRE_M * PRE_H + PRE_H * PRE_H, 0, sizeof(double) * PRE_M * PRE_H);
		break;
	case XPU_CLASS_GENERIC:
		memset(b + 2 * GEN_T * GEN_T, 0, sizeof(double) * GEN_T * GEN_T);
		break;
	default:
		break;
	}
	double *in = malloc(buf_len(cls) * sizeof(double));
	if (!in)
		return -ENOMEM;
	if (cls == XPU_CLASS_FFT) /* exp(-2 pi i j / N), after the result's 2N doubles */
		for (int j = 0; j < FFT_N; j++) {
			ref[2 * FFT_N + 2 * j] = cos(-2.0 * M_PI * j / FFT_N);
			ref[2 * FFT_N + 2 * j + 1] = sin(-2.0 * M_PI * j / FFT_N);
		}
	memcpy(in, b, buf_len(cls) * sizeof(double));
	rep(k, cls, full_rows(cls));
	switch (cls) {
	case XPU_CLASS_GEMM:
		ref_mm(in, in + GEMM_N * GEMM_N, ref, GEMM_N, GEMM_N, GEMM_N);
		rc = check(b + 2 * GEMM_N * GEMM_N, ref, GEMM_N * GEMM_N, cls, msg, len);
		break;
	case XPU_CLASS_LLM_PREFILL:
		ref_mm(in, in + PRE_M * PRE_H, ref, PRE_M, PRE_H, PRE_H);
		rc = check(b + PRE_M * PRE_H + PRE_H * PRE_H, ref, PRE_M * PRE_H, cls, msg, len);
		break;
	case XPU_CLASS_GENERIC:
		ref_mm(in, in + GEN_T * GEN_T, ref, GEN_T, GEN_T, GEN_T);
		rc = check(b + 2 * GEN_T * GEN_T, ref, GEN_T * GEN_T, cls, msg, len);
		break;
	case XPU_CLASS_CONV: { /* direct convolution */
		const int hw = CONV_HW * CONV_HW;
		const double *w = in + CONV_C * hw;
		for (int o = 0; o < CONV_C; o++)
			for (int y = 0; y < CONV_HW; y++)
				for (int x = 0; x < CONV_HW; x++) {
					double acc = 0;
					for (int c = 0; c < CONV_C; c++)
						for (int dy = -1; dy <= 1; dy++)
							for (int dx = -1; dx <= 1; dx++) {
								int sy = y + dy, sx = x + dx;
								if (sy < 0 || sx < 0 ||
								    sy >= CONV_HW || sx >= CONV_HW)
									continue;
								acc += w[(o * CONV_C + c) * 9 +
								         (dy + 1) * 3 + dx + 1] *
								       in[(c * CONV_HW + sy) *
								              CONV_HW +
								          sx];
							}
					ref[(o * CONV_HW + y) * CONV_HW + x] = acc;
				}
		rc = check(b + buf_len(cls) - (size_t)CONV_C * hw, ref, (size_t)CONV_C * hw, cls,
		           msg, len);
		break;
	}
	case XPU_CLASS_ATTENTION: { /* row by row, as written in the papers */
		const double *q = in, *kk = in + ATT_L * ATT_D, *v = in + 2 * ATT_L * ATT_D;
		double p[ATT_L];
		for (int i = 0; i < ATT_L; i++) {
			double mx = -INFINITY, sum = 0;
			for (int j = 0; j < ATT_L; j++) {
				double d = 0;
				for (int t = 0; t < ATT_D; t++)
					d += q[i * ATT_D + t] * kk[j * ATT_D + t];
				p[j] = d / sqrt((double)ATT_D);
				mx = fmax(mx, p[j]);
			}
			for (int j = 0; j < ATT_L; j++)
				sum += p[j] = exp(p[j] - mx);
			for (int t = 0; t < ATT_D; t++) {
				double acc = 0;
				for (int j = 0; j < ATT_L; j++)
					acc += p[j] / sum * v[j * ATT_D + t];
				ref[i * ATT_D + t] = acc;
			}
		}
		rc = check(b + buf_len(cls) - ATT_L * ATT_D, ref, ATT_L * ATT_D, cls, msg, len);
		break;
	}
	case XPU_CLASS_LLM_DECODE: {
		const double *x = in + (size_t)DEC_ROWS * DEC_COLS;
		for (int i = 0; i < DEC_ROWS; i++) {
			double acc = 0;
			for (int j = 0; j < DEC_COLS; j++)
				acc += in[(size_t)i * DEC_COLS + j] * x[j];
			ref[i] = acc;
		}
		rc = check(b + buf_len(cls) - DEC_ROWS, ref, DEC_ROWS, cls, msg, len);
		break;
	}
	case XPU_CLASS_FFT: /* the DFT's definition, O(N^2), angles from a table of N */
		for (int f = 0; f < FFT_N; f++) {
			double re = 0, im = 0;
			for (int t = 0; t < FFT_N; t++) {
				int j = (int)((long)f * t % FFT_N);
				double cs = ref[2 * FFT_N + 2 * j], sn = ref[2 * FFT_N + 2 * j + 1];
				re += in[2 * t] * cs - in[2 * t + 1] * sn;
				im += in[2 * t] * sn + in[2 * t + 1] * cs;
			}
			ref[2 * f] = re / sqrt((double)FFT_N);
			ref[2 * f + 1] = im / sqrt((double)FFT_N);
		}
		/* summation orders differ: compare against the signal's scale */
		for (int i = 0; i < 2 * FFT_N; i++)
			if (fabs(b[i] - ref[i]) > 1e-9 * sqrt((double)FFT_N))
				return free(in), differs(msg, len, cls, (size_t)i, b[i], ref[i]);
		break;
	case XPU_CLASS_STENCIL: { /* the first sweep wrote the second grid */
		const double *g = in;
		memcpy(ref, in + STEN_N * STEN_N, sizeof(double) * STEN_N * STEN_N);
		for (int y = 1; y < STEN_N - 1; y++)
			for (int x = 1; x < STEN_N - 1; x++)
				ref[y * STEN_N + x] =
				    (g[(y - 1) * STEN_N + x] + g[(y + 1) * STEN_N + x] +
				     g[y * STEN_N + x - 1] + g[y * STEN_N + x + 1] +
				     g[y * STEN_N + x]) /
				    5.0;
		rc = check(b + STEN_N * STEN_N, ref, STEN_N * STEN_N, cls, msg, len);
		break;
	}
	case XPU_CLASS_VIDEO: /* the DCT-II's definition per block */
		for (int by = 0; by < VID_N; by += 8)
			for (int bx = 0; bx < VID_N; bx += 8)
				for (int u = 0; u < 8; u++)
					for (int v = 0; v < 8; v++) {
						double acc = 0;
						for (int y = 0; y < 8; y++)
							for (int x = 0; x < 8; x++)
								acc +=
								    in[(by + y) * VID_N + bx + x] *
								    cos((2 * y + 1) * u * M_PI /
								        16) *
								    cos((2 * x + 1) * v * M_PI /
								        16);
						acc *= (u ? sqrt(0.25) : sqrt(0.125)) *
						       (v ? sqrt(0.25) : sqrt(0.125));
						ref[(by + u) * VID_N + bx + v] = acc;
					}
		rc = check(b + VID_N * VID_N, ref, VID_N * VID_N, cls, msg, len);
		break;
	default:
		break;
	}
	free(in);
	init_class(k, cls); /* the buffers go back to their starting state */
	return rc;
}

static int check_streamed(struct cpu_kernels *k, double *ref, char *msg, size_t len);

/* The streamed products against a plain reference: 3 tokens and one vector over the
 * first rows of the shared weight (the cursor at 0). */
static int selftest_streamed(struct cpu_kernels *k, double *ref, char *msg, size_t len)
{
	int rc = xpu_cpu_stream_open(8 * STREAM_COLS * sizeof(double));
	if (!rc && !(rc = stream_ensure(k)))
		rc = check_streamed(k, ref, msg, len);
	xpu_cpu_stream_close();
	return rc;
}

static int check_streamed(struct cpu_kernels *k, double *ref, char *msg, size_t len)
{
	int rc;
	const int rows = 5;
	for (int m = 1; m <= 3; m += 2) {
		k->cursor = 0;
		if ((rc = run_streamed(k, rows, m, NULL)))
			return rc;
		for (int i = 0; i < m; i++)
			for (int j = 0; j < rows; j++) {
				double acc = 0;
				for (int c = 0; c < STREAM_COLS; c++)
					acc += k->sx[i * STREAM_COLS + c] *
					       stream_w[j * STREAM_COLS + c];
				ref[i * rows + j] = acc;
			}
		rc = check(k->sy, ref, (size_t)m * rows,
		           m == 1 ? XPU_CLASS_LLM_DECODE : XPU_CLASS_LLM_PREFILL, msg, len);
		if (rc)
			return rc;
	}
	k->cursor = 0;
	return 0;
}

int xpu_cpu_kernels_selftest(char *msg, size_t len)
{
	struct cpu_kernels *k = xpu_cpu_kernels_new();
	size_t most = 4 * FFT_N; /* the FFT's result and its table of angles */
	for (int c = 0; c < XPU_CLASS_COUNT; c++)
		most = buf_len(c) > most ? buf_len(c) : most;
	double *ref = malloc(most * sizeof(double));
	int rc = k && ref ? 0 : -ENOMEM;
	for (int c = 0; c < XPU_CLASS_COUNT && !rc; c++)
		rc = selftest_class(k, c, ref, msg, len);
	if (!rc)
		rc = selftest_streamed(k, ref, msg, len);
	if (rc == -ENOMEM)
		snprintf(msg, len, "cpu kernels: out of memory");
	free(ref);
	xpu_cpu_kernels_free(k);
	return rc;
}

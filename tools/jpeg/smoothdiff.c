/* smoothdiff: how many output bytes libjpeg(-turbo)'s block smoothing (jdcoefct.c decompress_smooth_data, used for
 * progressive files whose first coefficients were not all sent completely) changes, for tools/jpeg_corpus.py.
 * Decodes the file twice, do_block_smoothing TRUE (libjpeg's default, what Pillow gets) and FALSE, and prints
 * "CHANGED TOTAL" (bytes of the decoded output). Exit 1 if libjpeg fails. Development tool, not part of the product.
 *   gcc -O2 -o /tmp/smoothdiff tools/jpeg/smoothdiff.c -ljpeg && /tmp/smoothdiff in.jpg
 */
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <jpeglib.h>

struct err { struct jpeg_error_mgr pub; jmp_buf jb; };
static void on_error(j_common_ptr c) { longjmp(((struct err *)c->err)->jb, 1); }
static void quiet(j_common_ptr c) { (void)c; }

static unsigned char *decode(const char *path, int smooth, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  struct jpeg_decompress_struct d; struct err e;
  unsigned char *volatile buf = NULL;
  d.err = jpeg_std_error(&e.pub); e.pub.error_exit = on_error; e.pub.output_message = quiet;
  if (setjmp(e.jb)) { jpeg_destroy_decompress(&d); fclose(f); free(buf); return NULL; }
  jpeg_create_decompress(&d);
  jpeg_stdio_src(&d, f);
  jpeg_read_header(&d, TRUE);
  d.do_block_smoothing = smooth;
  jpeg_start_decompress(&d);
  size_t stride = (size_t)d.output_width * d.output_components;
  *n = stride * d.output_height;
  buf = malloc(*n);
  while (d.output_scanline < d.output_height) { JSAMPROW r = buf + stride * d.output_scanline; jpeg_read_scanlines(&d, &r, 1); }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: smoothdiff in.jpg\n"); return 2; }
  size_t n1 = 0, n2 = 0, changed = 0;
  unsigned char *a = decode(argv[1], 1, &n1), *b = decode(argv[1], 0, &n2);
  if (!a || !b || n1 != n2) return 1;
  for (size_t k = 0; k < n1; k++) changed += a[k] != b[k];
  printf("%zu %zu\n", changed, n1);
  free(a); free(b);
  return 0;
}

/* cmykenc: writes 4-component JPEGs that cjpeg and Pillow's encoder cannot (Pillow only writes Adobe CMYK), for
 * tools/jpeg_corpus.py, tools/jpeg/make_entropy_fixtures.py and tools/jpeg/make_pixel_fixtures.py, the one CMYK/YCCK
 * encoder they share. Reads raw interleaved CMYK (width*height*4 bytes) on stdin, writes a JPEG on stdout.
 *   gcc -O2 -o /tmp/cmykenc tools/jpeg/cmykenc.c -ljpeg
 *   cmykenc WIDTH HEIGHT QUALITY ycck|cmyk|cmyk-noadobe [HxV,HxV,HxV,HxV] [progressive] < in.cmyk > out.jpg
 * ycck: libjpeg converts CMYK -> YCCK (Adobe marker, transform 2); cmyk: stored as is (Adobe transform 0);
 * cmyk-noadobe: stored as is without the Adobe APP14 marker. A development tool, not part of the product or CI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: cmykenc W H QUALITY ycck|cmyk|cmyk-noadobe [HxV,...] [progressive]\n"); return 2; }
  int w = atoi(argv[1]), h = atoi(argv[2]), q = atoi(argv[3]);
  const char *mode = argv[4];
  size_t n = (size_t)w * h * 4;
  unsigned char *px = malloc(n);
  if (!px || fread(px, 1, n, stdin) != n) { fprintf(stderr, "cmykenc: expected %zu bytes on stdin\n", n); return 2; }
  struct jpeg_compress_struct c; struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, stdout);
  c.image_width = w; c.image_height = h; c.input_components = 4; c.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, q, TRUE);
  jpeg_set_colorspace(&c, strcmp(mode, "ycck") == 0 ? JCS_YCCK : JCS_CMYK);
  if (strcmp(mode, "cmyk-noadobe") == 0) c.write_Adobe_marker = FALSE;
  int prog = 0;
  for (int a = 5; a < argc; a++) {
    if (strcmp(argv[a], "progressive") == 0) { prog = 1; continue; }
    int hs[4], vs[4];
    if (sscanf(argv[a], "%dx%d,%dx%d,%dx%d,%dx%d", &hs[0], &vs[0], &hs[1], &vs[1], &hs[2], &vs[2], &hs[3], &vs[3]) != 8) {
      fprintf(stderr, "cmykenc: bad sampling %s\n", argv[a]); return 2;
    }
    for (int k = 0; k < 4; k++) { c.comp_info[k].h_samp_factor = hs[k]; c.comp_info[k].v_samp_factor = vs[k]; }
  }
  if (prog) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = px + (size_t)c.next_scanline * w * 4;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  free(px);
  return 0;
}

/* cmykenc_fixture: writes a synthetic 4-component JPEG with libjpeg(-turbo), for the entropy decoder's fixtures
 * (tools/jpeg/make_entropy_fixtures.py). A development tool, not part of the product or of CI.
 *   gcc -O2 -o /tmp/cmykenc_fixture tools/jpeg/cmykenc_fixture.c -ljpeg
 *   /tmp/cmykenc_fixture out.jpg WIDTH HEIGHT cmyk|ycck QUALITY [progressive]
 * cmyk: Adobe transform 0; ycck: jpeg_set_colorspace(JCS_YCCK), Adobe transform 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: cmykenc_fixture out.jpg W H cmyk|ycck Q [progressive]\n"); return 2; }
  int w = atoi(argv[2]), h = atoi(argv[3]), q = atoi(argv[5]);
  int ycck = strcmp(argv[4], "ycck") == 0, prog = argc > 6 && strcmp(argv[6], "progressive") == 0;
  FILE *out = fopen(argv[1], "wb"); if (!out) { perror(argv[1]); return 2; }
  struct jpeg_compress_struct c; struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, out);
  c.image_width = w; c.image_height = h; c.input_components = 4; c.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_colorspace(&c, ycck ? JCS_YCCK : JCS_CMYK);
  jpeg_set_quality(&c, q, TRUE);
  if (prog) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  unsigned char *row = malloc((size_t)w * 4);
  unsigned int seed = 12345;
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      seed = seed * 1103515245u + 12345u;
      int n = (seed >> 16) & 15;
      row[4 * x + 0] = (unsigned char)((x * 255) / (w > 1 ? w - 1 : 1));
      row[4 * x + 1] = (unsigned char)((y * 255) / (h > 1 ? h - 1 : 1));
      row[4 * x + 2] = (unsigned char)(((x + y) * 4 + n) & 255);
      row[4 * x + 3] = (unsigned char)(((x * y) >> 3) & 255);
    }
    JSAMPROW r = row;
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  fclose(out);
  free(row);
  return 0;
}

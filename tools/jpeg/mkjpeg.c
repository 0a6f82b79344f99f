/* mkjpeg: writes JPEG files of chosen quantized coefficients, which no encoder makes, with libjpeg(-turbo) itself
 * (4-component files come from tools/jpeg/cmykenc.c).
 * A development tool (needs libjpeg62-turbo-dev) used by tools/jpeg/make_pixel_fixtures.py; not part of CI.
 *   gcc -O2 -o /tmp/mkjpeg tools/jpeg/mkjpeg.c -ljpeg
 *   mkjpeg coef W H NCOMP SEED AMPLITUDE out.jpg
 *       baseline YCbCr/grey file whose quantized coefficients are seeded random values in [-AMPLITUDE, AMPLITUDE]
 *       (quantisers 1..4), written with jpeg_write_coefficients: blocks no encoder makes, for IDCT range-limit cases.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

static unsigned long long rng_state;
static unsigned rnd(void) { rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL; return (unsigned)(rng_state >> 33); }

static int write_coef(int w, int h, int ncomp, unsigned seed, int amp, const char *out) {
  rng_state = seed;
  FILE *fo = fopen(out, "wb"); if (!fo) { perror(out); return 2; }
  struct jpeg_compress_struct c; struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, fo);
  c.image_width = w; c.image_height = h; c.input_components = ncomp;
  c.in_color_space = ncomp == 1 ? JCS_GRAYSCALE : JCS_YCbCr;
  jpeg_set_defaults(&c);
  unsigned int table[64];
  for (int k = 0; k < 64; k++) table[k] = 1 + (rnd() % 4);
  jpeg_add_quant_table(&c, 0, table, 100, TRUE);
  jpeg_add_quant_table(&c, 1, table, 100, TRUE);
  for (int i = 0; i < ncomp; i++) { c.comp_info[i].h_samp_factor = 1; c.comp_info[i].v_samp_factor = 1; }
  c.optimize_coding = TRUE;   /* coefficient magnitudes beyond the standard tables' range */
  jvirt_barray_ptr arrays[4];
  jpeg_component_info *ci;
  /* Sizes are derived by jpeg_write_coefficients' setup; compute them here as libjpeg does for 1x1 sampling. */
  int wb = (w + 7) / 8, hb = (h + 7) / 8;
  for (int i = 0; i < ncomp; i++)
    arrays[i] = c.mem->request_virt_barray((j_common_ptr)&c, JPOOL_IMAGE, FALSE, wb, hb, 1);
  c.mem->realize_virt_arrays((j_common_ptr)&c);
  for (int i = 0; i < ncomp; i++) {
    for (int r = 0; r < hb; r++) {
      JBLOCKARRAY row = c.mem->access_virt_barray((j_common_ptr)&c, arrays[i], r, 1, TRUE);
      for (int b = 0; b < wb; b++) {
        int mode = rnd() % 4;   /* 0: dense random, 1: sparse, 2: DC only extreme, 3: one large AC */
        for (int k = 0; k < 64; k++) {
          int v = 0;
          if (mode == 0) v = (int)(rnd() % (2 * amp + 1)) - amp;
          else if (mode == 1) v = (rnd() % 8 == 0) ? (int)(rnd() % (2 * amp + 1)) - amp : 0;
          else if (mode == 2) v = k == 0 ? ((rnd() & 1) ? amp : -amp) : 0;
          else v = (k == 0 || k == (int)(rnd() % 64)) ? (int)(rnd() % (2 * amp + 1)) - amp : 0;
          if (v > 1023) v = 1023;   /* Huffman limits: AC magnitude 10 bits, DC difference 11 bits */
          if (v < -1023) v = -1023;
          row[0][b][k] = (JCOEF)v;   /* stored in natural order */
        }
      }
    }
  }
  (void)ci;
  jpeg_write_coefficients(&c, arrays);
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  fclose(fo);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 8 && !strcmp(argv[1], "coef"))
    return write_coef(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), (unsigned)atoi(argv[5]), atoi(argv[6]), argv[7]);
  fprintf(stderr, "usage: see the header of mkjpeg.c\n");
  return 2;
}

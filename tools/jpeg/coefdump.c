/* coefdump: what libjpeg(-turbo) reads from a JPEG before any pixel work, in the layout of
 * src/Runtime/Imaging/Jpeg/JpegFrame.cs, so the C# decoder's entropy side and pixel side can each be checked against
 * libjpeg itself. A development tool (needs libjpeg62-turbo-dev), not part of the product or of CI.
 *   gcc -O2 -o /tmp/coefdump tools/jpeg/coefdump.c -ljpeg && /tmp/coefdump in.jpg out.bin
 * out.bin, little-endian int32 unless said:
 *   width height ncomp jpeg_color_space(J_COLOR_SPACE) progressive saw_JFIF saw_Adobe Adobe_transform max_h max_v
 *   per component: id h v quant_tbl_no width_in_blocks height_in_blocks downsampled_width downsampled_height
 *                  quant[64] (natural order, int32)  coef_bits[64] (int32; -1 = never sent; all 0 for baseline)
 *   per component: height_in_blocks rows × width_in_blocks blocks × 64 int16 coefficients (natural order)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

struct err { struct jpeg_error_mgr pub; jmp_buf jb; };
static void on_error(j_common_ptr c) { char m[JMSG_LENGTH_MAX]; c->err->format_message(c, m); fprintf(stderr, "libjpeg: %s\n", m); longjmp(((struct err *)c->err)->jb, 1); }
static void put(FILE *f, int v) { fwrite(&v, 4, 1, f); }

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: coefdump in.jpg out.bin\n"); return 2; }
  FILE *in = fopen(argv[1], "rb"); if (!in) { perror(argv[1]); return 2; }
  struct jpeg_decompress_struct d; struct err e;
  d.err = jpeg_std_error(&e.pub); e.pub.error_exit = on_error;
  if (setjmp(e.jb)) { jpeg_destroy_decompress(&d); return 1; }
  jpeg_create_decompress(&d);
  jpeg_stdio_src(&d, in);
  jpeg_read_header(&d, TRUE);
  jvirt_barray_ptr *coefs = jpeg_read_coefficients(&d);
  if (d.err->num_warnings) fprintf(stderr, "libjpeg: %ld warning(s), last: %d\n", d.err->num_warnings, d.err->msg_code);
  FILE *out = fopen(argv[2], "wb"); if (!out) { perror(argv[2]); return 2; }
  put(out, d.image_width); put(out, d.image_height); put(out, d.num_components); put(out, d.jpeg_color_space);
  put(out, d.progressive_mode); put(out, d.saw_JFIF_marker); put(out, d.saw_Adobe_marker); put(out, d.Adobe_transform);
  put(out, d.max_h_samp_factor); put(out, d.max_v_samp_factor);
  for (int c = 0; c < d.num_components; c++) {
    jpeg_component_info *ci = &d.comp_info[c];
    put(out, ci->component_id); put(out, ci->h_samp_factor); put(out, ci->v_samp_factor); put(out, ci->quant_tbl_no);
    put(out, ci->width_in_blocks); put(out, ci->height_in_blocks); put(out, ci->downsampled_width); put(out, ci->downsampled_height);
    for (int k = 0; k < 64; k++) put(out, ci->quant_table ? ci->quant_table->quantval[k] : 0);  /* quantval is natural order */
    for (int k = 0; k < 64; k++) put(out, d.progressive_mode ? d.coef_bits[c][k] : 0);
  }
  for (int c = 0; c < d.num_components; c++) {
    jpeg_component_info *ci = &d.comp_info[c];
    for (JDIMENSION r = 0; r < ci->height_in_blocks; r++) {
      JBLOCKARRAY row = d.mem->access_virt_barray((j_common_ptr)&d, coefs[c], r, 1, FALSE);
      for (JDIMENSION b = 0; b < ci->width_in_blocks; b++) fwrite(row[0][b], sizeof(JCOEF), DCTSIZE2, out);
    }
  }
  fclose(out);
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  return 0;
}

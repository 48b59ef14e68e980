/* A one-component 12-bit JPEG image decoded by libjpeg-turbo (its libjpeg API, as
 * TurboJPEG's tj3Decompress12 drives it: the markers, entropy decoding, restarts,
 * progressive and arithmetic coding, errors and warnings all its own) with the inverse DCT
 * replaced by ours (jpeg_dct/idct12.rs, through dicomfast_idct12): libjpeg-turbo has no
 * SIMD code for 12-bit samples, so its IDCT is some 40% of such an image's decoding.
 *
 * The replacement: libjpeg keeps one IDCT function per component in cinfo->idct (its
 * struct jpeg_inverse_dct, internal: jpegint.h), chosen when an output pass starts; the
 * 12-bit ones follow the 8-bit ones. This file mirrors that struct's layout (libjpeg-turbo
 * 3.x; turbojpeg-sys pins the version) and sets component 0's 12-bit function once
 * jpeg_start_decompress has chosen it; the image's single output pass then calls ours.
 *
 * libjpeg reports a fatal error by calling error_exit, which must not return: here it
 * jumps back to the call (setjmp/longjmp; dicomfast_idct12 never fails, so no Rust frame
 * is between the two). Warnings are counted and the first one's text kept, as TurboJPEG
 * does. */

#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "jpeglib.h"

/* The layout of libjpeg-turbo 3's struct jpeg_inverse_dct. */
typedef void (*idct_12_fn)(j_decompress_ptr cinfo, jpeg_component_info *compptr,
                           JCOEFPTR coef_block, J12SAMPARRAY output_buf,
                           JDIMENSION output_col);
struct idct_methods {
  void (*start_pass)(j_decompress_ptr cinfo);
  void *inverse_DCT[MAX_COMPONENTS];
  idct_12_fn inverse_DCT_12[MAX_COMPONENTS];
};

/* jpeg_dct/idct12.rs: one block (coefficients and quantization table in natural order)
 * into 8 rows of 8 samples, rows[r] + col. */
extern void dicomfast_idct12(const short *coef, const unsigned short *quant,
                             J12SAMPROW *rows, unsigned int col);

static void idct(j_decompress_ptr cinfo, jpeg_component_info *compptr,
                 JCOEFPTR coef_block, J12SAMPARRAY output_buf, JDIMENSION output_col)
{
  (void)cinfo;
  dicomfast_idct12(coef_block, compptr->quant_table->quantval, output_buf, output_col);
}

struct failure {
  struct jpeg_error_mgr pub;
  jmp_buf back;
  int warnings;
  char text[JMSG_LENGTH_MAX];
};

static void fail(j_common_ptr cinfo)
{
  struct failure *f = (struct failure *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, f->text);
  longjmp(f->back, 1);
}

static void note(j_common_ptr cinfo, int level)
{
  struct failure *f = (struct failure *)cinfo->err;
  if (level < 0 && f->warnings++ == 0)
    (*cinfo->err->format_message)(cinfo, f->text);
}

/* Decode data (size bytes) into out (width * height samples, rows width apart). Returns
 * 0 (done), 1 (done with warnings: text holds the first), 2 (failed: text says why), 3
 * (not an image this path takes: not one 12-bit component of width x height; nothing
 * decoded). text holds at least JMSG_LENGTH_MAX (200) bytes. */
int dicomfast_jpeg12_grey(const unsigned char *data, unsigned long size, unsigned int width,
                          unsigned int height, long max_memory, J12SAMPLE *out, char *text)
{
  struct jpeg_decompress_struct cinfo;
  struct failure f;

  memset(&cinfo, 0, sizeof(cinfo));
  cinfo.err = jpeg_std_error(&f.pub);
  f.pub.error_exit = fail;
  f.pub.emit_message = note;
  f.warnings = 0;
  f.text[0] = '\0';
  if (setjmp(f.back)) {
    strncpy(text, f.text, JMSG_LENGTH_MAX - 1);
    text[JMSG_LENGTH_MAX - 1] = '\0';
    jpeg_destroy_decompress(&cinfo);
    return 2;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.mem->max_memory_to_use = max_memory;
  jpeg_mem_src(&cinfo, data, size);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.num_components != 1 || cinfo.data_precision != 12 ||
      cinfo.image_width != width || cinfo.image_height != height) {
    jpeg_destroy_decompress(&cinfo);
    return 3;
  }
  cinfo.out_color_space = JCS_GRAYSCALE;
  cinfo.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_components != 1 || cinfo.output_width != width ||
      cinfo.output_height != height) {
    jpeg_destroy_decompress(&cinfo);
    return 3;
  }
  ((struct idct_methods *)cinfo.idct)->inverse_DCT_12[0] = idct;
  while (cinfo.output_scanline < cinfo.output_height) {
    J12SAMPROW rows[16];
    JDIMENSION k, n = cinfo.output_height - cinfo.output_scanline;

    if (n > 16)
      n = 16;
    for (k = 0; k < n; k++)
      rows[k] = out + (size_t)(cinfo.output_scanline + k) * width;
    jpeg12_read_scanlines(&cinfo, rows, n);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  if (f.warnings == 0)
    return 0;
  strncpy(text, f.text, JMSG_LENGTH_MAX - 1);
  text[JMSG_LENGTH_MAX - 1] = '\0';
  return 1;
}

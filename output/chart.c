/*
 * The digest's charts as PNG images, for e-mail: mail clients do not show
 * the HTML digest's inline SVG, but every one shows an image/png part of a
 * multipart/related message. Drawn with cairo, laid out like the SVG
 * (one horizontal bar per row, an optional second series drawn over it),
 * written to memory with cairo_surface_write_to_png_stream().
 */
#include <string.h>

#include <cairo.h>

#include "output/output_int.h"

#define WIDTH 720
#define ROW 22
#define LABEL_W 150
#define BAR_MAX 400

static cairo_status_t on_png(void *closure, const unsigned char *data,
                             unsigned int len)
{
    return ear_buf_addn(closure, data, len) == 0 ? CAIRO_STATUS_SUCCESS
                                                 : CAIRO_STATUS_WRITE_ERROR;
}

static json_int_t jint(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

int ear_output__chart_png(struct ear_buf *out, const json_t *rows,
                          const char *label_key, const char *value_key,
                          const char *part_key, const char *suffix,
                          int *height, struct ear_error *err)
{
    size_t n = json_array_size(rows);
    int h = (int)(n ? n : 1) * ROW + 4;
    json_int_t max = 0;
    cairo_surface_t *s = NULL;
    cairo_t *cr = NULL;
    cairo_status_t st;
    size_t i;
    json_t *r;
    int rc = 0;

    if (n > 200)
        return ear_error_set(err, EAR_ETOOBIG, NULL, 0, 0,
                             "chart: %zu rows is too many", n);
    json_array_foreach(rows, i, r)
        if (jint(r, value_key) > max)
            max = jint(r, value_key);
    s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, WIDTH, h);
    cr = cairo_create(s);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        rc = ear_error_set(err, EAR_ENOMEM, NULL, 0, 0, "chart: %s",
                           cairo_status_to_string(cairo_status(cr)));
        goto out;
    }
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    if (n == 0) {
        cairo_set_source_rgb(cr, 0.47, 0.47, 0.47);
        cairo_move_to(cr, 0, 16);
        cairo_show_text(cr, "No data.");
    }
    json_array_foreach(rows, i, r) {
        const json_t *label = json_object_get(r, label_key);
        json_int_t v = jint(r, value_key);
        json_int_t part = part_key ? jint(r, part_key) : 0;
        double w = max > 0 ? (double)BAR_MAX * (double)v / (double)max : 0;
        double pw = max > 0 ? (double)BAR_MAX * (double)part / (double)max
                            : 0;
        double y = (double)i * ROW + 2;
        struct ear_buf text;
        char num[64];

        ear_buf_init(&text, 4096);
        if (json_is_integer(label))
            rc = ear_buf_addf(&text, "%lld%s",
                              (long long)json_integer_value(label), suffix);
        else
            rc = ear_text_snippet(&text, json_string_value(label)
                                             ? json_string_value(label)
                                             : "", 22);
        if (rc < 0) {
            ear_buf_dispose(&text);
            rc = ear_error_set(err, rc, NULL, 0, 0, "chart: %s",
                               ear_strerror(rc));
            goto out;
        }
        cairo_set_source_rgb(cr, 0.13, 0.13, 0.13);
        cairo_move_to(cr, 0, y + 15);
        cairo_show_text(cr, ear_buf_str(&text));
        ear_buf_dispose(&text);
        /* the whole bar, then the flagged part over it */
        cairo_set_source_rgb(cr, 0.6, 0.73, 0.8);
        cairo_rectangle(cr, LABEL_W, y, w, 18);
        cairo_fill(cr);
        if (part_key) {
            cairo_set_source_rgb(cr, 0.87, 0.33, 0.33);
            cairo_rectangle(cr, LABEL_W, y, pw, 18);
            cairo_fill(cr);
            snprintf(num, sizeof num, "%lld (%lld flagged)", (long long)v,
                     (long long)part);
        } else {
            snprintf(num, sizeof num, "%lld", (long long)v);
        }
        cairo_set_source_rgb(cr, 0.13, 0.13, 0.13);
        cairo_move_to(cr, LABEL_W + w + 6, y + 15);
        cairo_show_text(cr, num);
    }
    cairo_surface_flush(s);
    st = cairo_surface_write_to_png_stream(s, on_png, out);
    if (st != CAIRO_STATUS_SUCCESS)
        rc = ear_error_set(err, out->ptr ? EAR_EIO : EAR_ENOMEM, NULL, 0, 0,
                           "chart: %s", cairo_status_to_string(st));
    if (rc == 0 && height)
        *height = h;
out:
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    /* cairo keeps its font caches (fontconfig patterns) for the process's
     * life: a few hundred bytes LeakSanitizer reports at exit (suppressed
     * in tests/lsan.supp). cairo_debug_reset_static_data() would free them
     * but is not thread-safe. */
    return rc;
}

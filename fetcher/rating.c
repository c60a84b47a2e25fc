/*
 * Star ratings: every source states them on its own scale (1-5 stars, 0-10
 * points, 0-100 percent, "4,5 / 5"), and the mention record holds them on
 * one: 1..5, 0 for none. A rating is read as a number, with the scale the
 * source gives (rev:minRating / rev:maxRating, bestRating / worstRating,
 * gd:rating's min / max, the source's rating_scale), and mapped linearly
 * from [worst, best] onto [1, 5]. When the scale is unknown it is guessed
 * from the value: at most 5 is a five-star scale, at most 10 a ten-point
 * one, at most 100 a percentage.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher/fetcher_int.h"

int ear_rating__number(double *out, const char *s)
{
    char buf[64];
    const char *p = s;
    size_t n = 0;
    char *end;
    double v;

    if (!s)
        return EAR_EPARSE;
    while (*p && !(*p >= '0' && *p <= '9')
           && !(*p == '.' && p[1] >= '0' && p[1] <= '9'))
        p++;
    if (!*p)
        return EAR_EPARSE;
    /* digits with one decimal point or comma ("4,5" on Hungarian sites) */
    while (n + 1 < sizeof(buf)
           && ((p[n] >= '0' && p[n] <= '9')
               || ((p[n] == '.' || p[n] == ',') && p[n + 1] >= '0'
                   && p[n + 1] <= '9' && !memchr(buf, '.', n)))) {
        buf[n] = p[n] == ',' ? '.' : p[n];
        n++;
    }
    buf[n] = '\0';
    v = strtod(buf, &end);
    if (end == buf || !isfinite(v))
        return EAR_EPARSE;
    *out = v;
    return 0;
}

int ear_rating__text(double *value, double *best, const char *s)
{
    const char *p;
    double v;

    *best = 0;
    if (ear_rating__number(&v, s) < 0)
        return EAR_EPARSE;
    *value = v;
    /* "4 / 5", "4 out of 5", "4 of 5", "4 von 5", "4/10" */
    p = s;
    while (*p && !(*p >= '0' && *p <= '9'))
        p++;
    while (*p && ((*p >= '0' && *p <= '9') || *p == '.' || *p == ','))
        p++;
    while (*p == ' ')
        p++;
    if (*p == '/')
        p++;
    else if (strncmp(p, "out of ", 7) == 0)
        p += 7;
    else if (strncmp(p, "of ", 3) == 0 || strncmp(p, "von ", 4) == 0)
        p += *p == 'o' ? 3 : 4;
    else
        return 0;
    while (*p == ' ')
        p++;
    if (*p >= '0' && *p <= '9' && ear_rating__number(&v, p) == 0 && v > 0)
        *best = v;
    return 0;
}

double ear_rating__normalize(double value, double worst, double best)
{
    double r;

    if (!isfinite(value) || value < 0)
        return 0;
    if (!(best > 0) || !isfinite(best)) {
        if (value <= 5)
            best = 5;
        else if (value <= 10)
            best = 10;
        else if (value <= 100)
            best = 100;
        else
            return 0;
    }
    if (!isfinite(worst) || worst < 0)
        worst = best >= 100 ? 0 : 1;
    if (best <= worst)
        return 0;
    if (value == 0 && worst > 0)
        return 0; /* "0" on a 1-based scale means not rated */
    r = 1.0 + 4.0 * (value - worst) / (best - worst);
    if (r < 1)
        r = 1;
    if (r > 5)
        r = 5;
    return round(r * 100.0) / 100.0;
}

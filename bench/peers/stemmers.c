/*
 * The two Hungarian stemmers Debian ships, side by side (issue 4: "measure
 * which serves better before choosing"): Snowball's (libstemmer) and
 * Hunspell with the hu_HU dictionary (hunspell-hu). Reads words, one per
 * line, on stdin; writes "word<TAB>snowball stem<TAB>hunspell stems"
 * (comma-separated, "-" for none) on stdout, and on stderr the load time,
 * the memory each one adds and its speed. bench/peers/stemmers.py drives
 * it over the dev files and the Hungarian lexicon.
 *
 *   apt-get install libstemmer-dev libhunspell-dev hunspell-hu
 *   cc -O2 -o stemmers stemmers.c -lstemmer -lhunspell
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hunspell/hunspell.h>
#include <libstemmer.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

int main(void)
{
    char **words = NULL, *line = NULL;
    size_t n = 0, cap = 0, lcap = 0, i;
    ssize_t len;
    double t0, t_sb, t_hs, s_sb = 0, s_hs = 0;
    long r0, r_sb, r_hs;
    struct sb_stemmer *sb;
    Hunhandle *hs;
    char ***hstems;
    int *nh;

    while ((len = getline(&line, &lcap, stdin)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (!len)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            words = realloc(words, cap * sizeof *words);
        }
        words[n++] = strdup(line);
    }
    r0 = rss_kb();
    t0 = now();
    sb = sb_stemmer_new("hungarian", "UTF_8");
    t_sb = now() - t0;
    r_sb = rss_kb() - r0;
    t0 = now();
    hs = Hunspell_create("/usr/share/hunspell/hu_HU.aff",
                         "/usr/share/hunspell/hu_HU.dic");
    t_hs = now() - t0;
    r_hs = rss_kb() - r0 - r_sb;
    if (!sb || !hs) {
        fprintf(stderr, "stemmers: cannot load a stemmer\n");
        return 1;
    }
    hstems = calloc(n, sizeof *hstems);
    nh = calloc(n, sizeof *nh);
    /* timed separately, each over every word */
    t0 = now();
    for (i = 0; i < n; i++)
        sb_stemmer_stem(sb, (const sb_symbol *)words[i],
                        (int)strlen(words[i]));
    s_sb = now() - t0;
    t0 = now();
    for (i = 0; i < n; i++)
        nh[i] = Hunspell_stem(hs, &hstems[i], words[i]);
    s_hs = now() - t0;
    for (i = 0; i < n; i++) {
        const sb_symbol *st = sb_stemmer_stem(sb,
            (const sb_symbol *)words[i], (int)strlen(words[i]));
        int k;
        printf("%s\t%.*s\t", words[i], sb_stemmer_length(sb),
               (const char *)st);
        for (k = 0; k < nh[i]; k++)
            printf("%s%s", k ? "," : "", hstems[i][k]);
        printf("%s\n", nh[i] ? "" : "-");
        Hunspell_free_list(hs, &hstems[i], nh[i]);
    }
    fprintf(stderr,
            "snowball: load %.1f ms, +%ld KB RSS, %.0f words/s\n"
            "hunspell: load %.1f ms, +%ld KB RSS, %.0f words/s\n",
            t_sb * 1e3, r_sb, n / (s_sb > 0 ? s_sb : 1e-9),
            t_hs * 1e3, r_hs, n / (s_hs > 0 ? s_hs : 1e-9));
    sb_stemmer_delete(sb);
    Hunspell_destroy(hs);
    return 0;
}

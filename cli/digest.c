/*
 * earshot digest: what happened in a period, for a team lead.
 *
 *   earshot digest [--since 24h|7d|DATE] [--until DATE]
 *                  [--format md|html|json] [--out FILE]
 *                  [--mail [--sink NAME]]
 *
 * The period is [since, until); until defaults to the end of the current
 * second (ear_now(), so EARSHOT_NOW fixes it for tests and for re-running
 * yesterday's digest), so mentions stored a moment ago are in.
 * With --out the file is written beside its target and renamed into place,
 * so a cron job never mails half a digest. --mail sends it over an smtp
 * sink instead (HTML with PNG charts and a text alternative).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "output/output.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: earshot digest [--since 24h|7d|DATE] [--until DATE]\n"
        "                      [--format md|html|json] [--out FILE]\n"
        "                      [--mail [--sink NAME]]\n\n"
        "Summarises a period: new and flagged mentions by category, brand, "
        "source and\nlanguage, the most urgent open items, ratings and their "
        "trend, the share of\nnegative mentions, the open backlog and what "
        "is overdue, first-response times\nand the share answered within "
        "SLA, and the rules whose flags were dismissed\nmost often.\n\n"
        "options:\n"
        "  --since WHEN   start: a duration back from --until (90m, 24h, "
        "7d, 2w) or a\n"
        "                 date/time (2026-11-23, 2026-11-23T08:00:00Z); "
        "default 24h\n"
        "  --until WHEN   end (exclusive): a date/time; default now "
        "(inclusive)\n"
        "  --format F     md (default), html or json\n"
        "  --out FILE     write to FILE instead of standard output\n"
        "  --mail         send it by e-mail over an smtp sink of the config: "
        "HTML\n"
        "                 with PNG charts, and the Markdown as a text "
        "alternative\n"
        "  --sink NAME    the smtp sink to use (default: the first one)\n\n"
        "See docs/queue.md.\n");
}

/* A date/time, or a bare date (midnight UTC). */
static int parse_when(const char *s, int64_t *out)
{
    char buf[40];

    if (ear_time_parse(out, s) == 0)
        return 0;
    if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
        return ear_time_parse(out, buf);
    }
    return EAR_EPARSE;
}

static int write_file(struct ear_cli *cli, const char *path,
                      const struct ear_buf *b)
{
    struct ear_error err;
    struct ear_buf tmp;
    FILE *f = NULL;
    int rc = 0;

    ear_error_clear(&err);
    ear_buf_init(&tmp, 4096);
    if (ear_mkdir_parents(path, &err) < 0) {
        ear_cli_error(cli, &err);
        return -1;
    }
    if (ear_buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
        ear_cli_err(cli, "out of memory");
        return -1;
    }
    f = fopen(ear_buf_str(&tmp), "wb");
    if (!f) {
        ear_cli_err(cli, "%s: %s", path, strerror(errno));
        rc = -1;
        goto out;
    }
    if ((b->len > 0 && fwrite(b->ptr, 1, b->len, f) != b->len) ||
        fflush(f) != 0) {
        ear_cli_err(cli, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (fclose(f) != 0 && rc == 0) {
        ear_cli_err(cli, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(ear_buf_str(&tmp), path) != 0) {
        ear_cli_err(cli, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc < 0)
        unlink(ear_buf_str(&tmp));
out:
    ear_buf_dispose(&tmp);
    return rc;
}

int ear_cmd_digest(struct ear_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"format", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        {"mail", no_argument, NULL, 'm'},
        {"sink", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    const char *since_s = "24h";
    const char *until_s = NULL;
    const char *format = "md";
    const char *out = NULL;
    const char *sink = NULL;
    int mail = 0;
    struct ear_config *cfg;
    struct ear_store *st;
    struct ear_error err;
    struct ear_buf b;
    int64_t since;
    int64_t until;
    int64_t dur;
    int c;
    int rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': since_s = optarg; break;
        case 'u': until_s = optarg; break;
        case 'f': format = optarg; break;
        case 'o': out = optarg; break;
        case 'm': mail = 1; break;
        case 'k': sink = optarg; break;
        case 'h': usage(stdout); return EAR_EXIT_OK;
        default: return ear_cli_usage(cli, "digest", "bad option");
        }
    }
    if (optind < argc)
        return ear_cli_usage(cli, "digest", "unexpected argument '%s'",
                             argv[optind]);
    if (strcmp(format, "md") != 0 && strcmp(format, "html") != 0 &&
        strcmp(format, "json") != 0)
        return ear_cli_usage(cli, "digest", "unknown format '%s' (expected "
                             "md, html or json)", format);
    /* [since, until) with until just past now, so what the run a moment
     * ago stored in this very second is in. */
    until = ear_now() + 1;
    if (until_s && parse_when(until_s, &until) < 0)
        return ear_cli_usage(cli, "digest", "--until: '%s' is not a date "
                             "or time", until_s);
    if (ear_duration_parse(&dur, since_s) == 0 && dur > 0)
        since = until - dur;
    else if (parse_when(since_s, &since) < 0)
        return ear_cli_usage(cli, "digest", "--since: '%s' is neither a "
                             "duration (24h, 7d) nor a date", since_s);
    if (since >= until)
        return ear_cli_usage(cli, "digest", "--since must be before "
                             "--until");
    if (sink && !mail)
        return ear_cli_usage(cli, "digest", "--sink goes with --mail");

    cfg = ear_cli_config(cli, 0);
    if (!cfg)
        return EAR_EXIT_FAIL;
    st = ear_cli_store(cli);
    if (!st)
        return EAR_EXIT_FAIL;
    ear_error_clear(&err);
    if (mail) {
        rc = ear_digest_mail(st, cfg, since, until, sink, &err);
        if (rc < 0) {
            ear_cli_error(cli, &err);
            return rc == EAR_ENOTFOUND ? EAR_EXIT_USAGE : EAR_EXIT_FAIL;
        }
        if (sink)
            ear_cli_info(cli, "digest mailed over sink '%s'", sink);
        else
            ear_cli_info(cli, "digest mailed over the first smtp sink");
        if (!out)
            return EAR_EXIT_OK;
    }
    ear_buf_init(&b, EAR_BUF_MAX_DEFAULT);
    rc = ear_digest_render(st, cfg, since, until, format, &b, &err);
    if (rc < 0) {
        ear_cli_error(cli, &err);
        ear_buf_dispose(&b);
        return EAR_EXIT_FAIL;
    }
    if (out) {
        rc = write_file(cli, out, &b);
        if (rc == 0)
            ear_cli_info(cli, "digest written to %s", out);
    } else if (!mail && b.len > 0 &&
               fwrite(b.ptr, 1, b.len, stdout) != b.len) {
        ear_cli_err(cli, "write error on standard output");
        rc = -1;
    }
    ear_buf_dispose(&b);
    return rc < 0 ? EAR_EXIT_FAIL : EAR_EXIT_OK;
}

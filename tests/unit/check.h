/* Minimal test assertions: CHECK(c), CHECK_STR(a, b), CHECK_INT(a, b).
 * A failed check prints file:line and marks the test failed; the test's
 * main returns check_result(). */
#ifndef EAR_TEST_CHECK_H
#define EAR_TEST_CHECK_H
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(c) do { if (!(c)) { \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
    check_failures++; } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
    fprintf(stderr, "%s:%d: CHECK_STR failed: %s = \"%s\", expected \"%s\"\n", \
            __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    check_failures++; } } while (0)
#define CHECK_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { \
    fprintf(stderr, "%s:%d: CHECK_INT failed: %s = %lld, expected %lld\n", \
            __FILE__, __LINE__, #a, a_, b_); check_failures++; } } while (0)

static inline int check_result(void)
{
    if (check_failures)
        fprintf(stderr, "%d check(s) failed\n", check_failures);
    return check_failures ? 1 : 0;
}
#endif

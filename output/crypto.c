/*
 * Hashes and encodings the sinks need: SHA-256 for idempotency keys,
 * HMAC-SHA256 for the webhook signature, base64 for e-mail bodies.
 *
 * They come from OpenSSL's libcrypto, which libcurl already loads for TLS
 * (libcurl4-openssl-dev); nothing cryptographic is written by hand here.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "output/output_int.h"

static void hex(char *out, const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int ear_output__sha256_hex(char out[65], const void *data, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len != 32)
        return EAR_EINVAL;
    hex(out, md, len);
    return 0;
}

int ear_output__hmac_sha256_hex(char out[65], const char *key,
                                const void *data, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    size_t klen = strlen(key);

    if (klen > 1 << 20)
        return EAR_EINVAL;
    if (!HMAC(EVP_sha256(), key, (int)klen, data, n, md, &len) || len != 32)
        return EAR_EINVAL;
    hex(out, md, len);
    return 0;
}

int ear_output__base64(struct ear_buf *out, const void *data, size_t n,
                       int wrap)
{
    /* 57 input bytes make one 76-character line (RFC 2045). */
    const unsigned char *p = data;
    unsigned char line[80];
    int rc;

    while (n > 0) {
        size_t chunk = n > 57 ? 57 : n;
        int len = EVP_EncodeBlock(line, p, (int)chunk);

        if (len < 0)
            return EAR_EINVAL;
        rc = ear_buf_addn(out, line, (size_t)len);
        if (rc == 0 && wrap)
            rc = ear_buf_adds(out, "\r\n");
        if (rc < 0)
            return rc;
        p += chunk;
        n -= chunk;
    }
    return 0;
}

/* mica_cert_describe against libcrypto's own view of the test certificates. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include <mica/cert.h>

#include "check.h"
#include "vec.h"

static void one(const char *kind, const char *want_key)
{
    char path[512];
    FILE *f;
    X509 *x;
    unsigned char *der = NULL, *spki = NULL, md[32];
    unsigned int md_len = 0;
    int der_len, spki_len;
    struct mica_cert_info ci;
    char want[128], b64[64];

    snprintf(path, sizeof(path), "%s", vec_path("certs/"));
    snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s.crt", kind);
    f = fopen(path, "r");
    CHECK(f != NULL);
    if (f == NULL) {
        return;
    }
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    der_len = i2d_X509(x, &der);
    CHECK(der_len > 0);
    CHECK_OK(mica_cert_describe(der, (size_t)der_len, &ci));
    snprintf(want, sizeof(want), "CN=mica test %s", kind);
    CHECK_MSG(strcmp(ci.subject, want) == 0, "%s: subject '%s'", kind, ci.subject);
    CHECK_MSG(strcmp(ci.issuer, "CN=mica test CA") == 0, "%s: issuer '%s'", kind, ci.issuer);
    CHECK_MSG(strcmp(ci.sans, "DNS:localhost, DNS:*.test.mica, IP:127.0.0.1, IP:::1") == 0,
              "%s: sans '%s'", kind, ci.sans);
    CHECK_MSG(strcmp(ci.key, want_key) == 0, "%s: key '%s'", kind, ci.key);
    CHECK(strlen(ci.not_before) == 20 && ci.not_before[19] == 'Z');
    CHECK(ci.not_after_s - ci.not_before_s > 99LL * 365 * 86400); /* a century */
    CHECK(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), (time_t)ci.not_after_s) == 0);
    /* fingerprint and pin, as libcrypto computes them */
    CHECK(X509_digest(x, EVP_sha256(), md, &md_len) == 1 && md_len == 32);
    for (int i = 0; i < 32; i++) {
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    }
    CHECK_MSG(strcmp(ci.sha256, want) == 0, "%s: sha256", kind);
    spki_len = i2d_PUBKEY(X509_get0_pubkey(x), &spki);
    CHECK(EVP_Digest(spki, (size_t)spki_len, md, &md_len, EVP_sha256(), NULL) == 1);
    EVP_EncodeBlock((unsigned char *)b64, md, 32);
    snprintf(want, sizeof(want), "sha256/%s", b64);
    CHECK_MSG(strcmp(ci.spki_pin, want) == 0, "%s: pin '%s'", kind, ci.spki_pin);
    CHECK(strstr(ci.signature_algorithm, "ecdsa-with-SHA256") != NULL); /* signed by the CA */
    /* one byte more or less is not a certificate */
    CHECK_ERR(mica_cert_describe(der, (size_t)der_len - 1, &ci), MICA_E_DECODE);
    OPENSSL_free(der);
    OPENSSL_free(spki);
    X509_free(x);
}

int main(void)
{
    one("ecdsa-p256", "ECDSA P-256");
    one("ecdsa-p384", "ECDSA P-384");
    one("rsa2048", "RSA 2048");
    one("ed25519", "Ed25519");
    one("ed448", "Ed448");
    {
        static struct mica_cert_info ci;
        CHECK_ERR(mica_cert_describe((const uint8_t *)"junk", 4, &ci), MICA_E_DECODE);
    }
    return check_exit("test_cert_info");
}

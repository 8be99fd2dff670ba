/*
 * The descriptor tables: every algorithm mica speaks, one const row each (after
 * picotls). Order within a table is mica's default preference.
 */
#include <string.h>
#include <strings.h>

#include "crypto/crypto.h"

#include <mica/mica.h>

const struct mica_hash_desc mica_hash_sha256 = {MICA_HASH_SHA256, "SHA256", 32};
const struct mica_hash_desc mica_hash_sha384 = {MICA_HASH_SHA384, "SHA384", 48};
const struct mica_hash_desc mica_hash_sha512 = {MICA_HASH_SHA512, "SHA512", 64};
const struct mica_hash_desc mica_hash_sha1 = {MICA_HASH_SHA1, "SHA1", 20};

static const struct mica_aead_desc aes_128_gcm = {
    MICA_AEAD_AES_128_GCM, "AES-128-GCM", "AES-128-GCM", 16, 16, MICA_AEAD_LIMIT_GCM};
static const struct mica_aead_desc aes_256_gcm = {
    MICA_AEAD_AES_256_GCM, "AES-256-GCM", "AES-256-GCM", 32, 16, MICA_AEAD_LIMIT_GCM};
static const struct mica_aead_desc chacha20_poly1305 = {
    MICA_AEAD_CHACHA20_POLY1305, "ChaCha20-Poly1305", "ChaCha20-Poly1305", 32, 16,
    MICA_AEAD_LIMIT_CHACHA};
static const struct mica_aead_desc aes_128_ccm = {
    MICA_AEAD_AES_128_CCM, "AES-128-CCM", "AES-128-CCM", 16, 16, MICA_AEAD_LIMIT_CCM};
static const struct mica_aead_desc aes_128_ccm_8 = {
    MICA_AEAD_AES_128_CCM_8, "AES-128-CCM-8", "AES-128-CCM", 16, 8, MICA_AEAD_LIMIT_CCM8};

/* RFC 8446 B.4. */
const struct mica_suite mica_suites[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256", &mica_hash_sha256, &aes_128_gcm},
    {0x1302, "TLS_AES_256_GCM_SHA384", &mica_hash_sha384, &aes_256_gcm},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", &mica_hash_sha256, &chacha20_poly1305},
    {0x1304, "TLS_AES_128_CCM_SHA256", &mica_hash_sha256, &aes_128_ccm},
    {0x1305, "TLS_AES_128_CCM_8_SHA256", &mica_hash_sha256, &aes_128_ccm_8},
};
const size_t mica_suites_n = MICA_ARRAY_LEN(mica_suites);

/* RFC 8446 4.2.7; share and secret sizes from RFC 8446 4.2.8.2, RFC 7748 and
 * draft-ietf-tls-ecdhe-mlkem 4. The hybrids name their classical group by position. */
const struct mica_group mica_groups[] = {
    {0x11ec, "X25519MLKEM768", MICA_KX_KEM, NULL, 1216, 1120, 64, &mica_groups[1], true},
    {0x001d, "x25519", MICA_KX_XDH, "X25519", 32, 32, 32, NULL, false},
    {0x0017, "secp256r1", MICA_KX_ECDH, "P-256", 65, 65, 32, NULL, false},
    {0x0018, "secp384r1", MICA_KX_ECDH, "P-384", 97, 97, 48, NULL, false},
    {0x0019, "secp521r1", MICA_KX_ECDH, "P-521", 133, 133, 66, NULL, false},
    {0x001e, "x448", MICA_KX_XDH, "X448", 56, 56, 56, NULL, false},
    {0x11eb, "SecP256r1MLKEM768", MICA_KX_KEM, NULL, 1249, 1153, 64, &mica_groups[2], false},
    {0x0201, "MLKEM768", MICA_KX_KEM, NULL, 1184, 1088, 32, NULL, true},
};
const size_t mica_groups_n = MICA_ARRAY_LEN(mica_groups);

/* RFC 8446 4.2.3. handshake_ok marks schemes allowed in CertificateVerify; the rest are
 * for signatures in certificates only. */
const struct mica_sig_scheme mica_sig_schemes[] = {
    {0x0403, "ecdsa_secp256r1_sha256", MICA_KEY_EC, &mica_hash_sha256, "P-256", false, true},
    {0x0503, "ecdsa_secp384r1_sha384", MICA_KEY_EC, &mica_hash_sha384, "P-384", false, true},
    {0x0603, "ecdsa_secp521r1_sha512", MICA_KEY_EC, &mica_hash_sha512, "P-521", false, true},
    {0x0807, "ed25519", MICA_KEY_ED25519, NULL, NULL, false, true},
    {0x0808, "ed448", MICA_KEY_ED448, NULL, NULL, false, true},
    {0x0804, "rsa_pss_rsae_sha256", MICA_KEY_RSA, &mica_hash_sha256, NULL, true, true},
    {0x0805, "rsa_pss_rsae_sha384", MICA_KEY_RSA, &mica_hash_sha384, NULL, true, true},
    {0x0806, "rsa_pss_rsae_sha512", MICA_KEY_RSA, &mica_hash_sha512, NULL, true, true},
    {0x0809, "rsa_pss_pss_sha256", MICA_KEY_RSA_PSS, &mica_hash_sha256, NULL, true, true},
    {0x080a, "rsa_pss_pss_sha384", MICA_KEY_RSA_PSS, &mica_hash_sha384, NULL, true, true},
    {0x080b, "rsa_pss_pss_sha512", MICA_KEY_RSA_PSS, &mica_hash_sha512, NULL, true, true},
    {0x0401, "rsa_pkcs1_sha256", MICA_KEY_RSA, &mica_hash_sha256, NULL, false, false},
    {0x0501, "rsa_pkcs1_sha384", MICA_KEY_RSA, &mica_hash_sha384, NULL, false, false},
    {0x0601, "rsa_pkcs1_sha512", MICA_KEY_RSA, &mica_hash_sha512, NULL, false, false},
    {0x0203, "ecdsa_sha1", MICA_KEY_EC, &mica_hash_sha1, NULL, false, false},
    {0x0201, "rsa_pkcs1_sha1", MICA_KEY_RSA, &mica_hash_sha1, NULL, false, false},
};
const size_t mica_sig_schemes_n = MICA_ARRAY_LEN(mica_sig_schemes);

const struct mica_suite *mica_suite_by_id(uint16_t id)
{
    for (size_t i = 0; i < mica_suites_n; i++) {
        if (mica_suites[i].id == id) {
            return &mica_suites[i];
        }
    }
    return NULL;
}

const struct mica_suite *mica_suite_by_name(const char *name)
{
    for (size_t i = 0; i < mica_suites_n; i++) {
        if (strcasecmp(mica_suites[i].name, name) == 0) {
            return &mica_suites[i];
        }
    }
    return NULL;
}

const struct mica_group *mica_group_by_id(uint16_t id)
{
    for (size_t i = 0; i < mica_groups_n; i++) {
        if (mica_groups[i].id == id) {
            return &mica_groups[i];
        }
    }
    return NULL;
}

const struct mica_group *mica_group_by_name(const char *name)
{
    for (size_t i = 0; i < mica_groups_n; i++) {
        if (strcasecmp(mica_groups[i].name, name) == 0) {
            return &mica_groups[i];
        }
    }
    return NULL;
}

const struct mica_sig_scheme *mica_sig_scheme_by_id(uint16_t id)
{
    for (size_t i = 0; i < mica_sig_schemes_n; i++) {
        if (mica_sig_schemes[i].id == id) {
            return &mica_sig_schemes[i];
        }
    }
    return NULL;
}

const struct mica_sig_scheme *mica_sig_scheme_by_name(const char *name)
{
    for (size_t i = 0; i < mica_sig_schemes_n; i++) {
        if (strcasecmp(mica_sig_schemes[i].name, name) == 0) {
            return &mica_sig_schemes[i];
        }
    }
    return NULL;
}

/* The public listing (include/mica/mica.h). */
uint16_t mica_cipher_suite_at(size_t i, const char **name)
{
    if (i >= mica_suites_n) {
        return 0;
    }
    *name = mica_suites[i].name;
    return mica_suites[i].id;
}

uint16_t mica_group_at(size_t i, const char **name)
{
    if (i >= mica_groups_n) {
        return 0;
    }
    *name = mica_groups[i].name;
    return mica_groups[i].id;
}

uint16_t mica_sig_scheme_at(size_t i, const char **name)
{
    if (i >= mica_sig_schemes_n) {
        return 0;
    }
    *name = mica_sig_schemes[i].name;
    return mica_sig_schemes[i].id;
}

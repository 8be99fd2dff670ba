/*
 * X25519MLKEM768 through the KEM-shaped key exchange and the TLS key schedule, against
 * the derived vector in tests/vectors/tls-hybrid (draft-ietf-tls-ecdhe-mlkem 4.1-4.3):
 * the client share, the server share, the 64-byte shared secret (ML-KEM first) and the
 * handshake secret for SHA-256 and SHA-384. Then the error paths the draft names.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crypto/crypto.h"
#include "tls/keysched.h"
#include "vec.h"

static char *text;

static uint8_t *val(const char *name, size_t *len)
{
    char key[64];
    const char *p;

    snprintf(key, sizeof(key), "\n%s ", name);
    p = strstr(text, key);
    if (p == NULL) {
        fprintf(stderr, "vector value %s missing\n", name);
        exit(2);
    }
    p += strlen(key);
    {
        size_t n = strcspn(p, "\n");
        char *hex = malloc(n + 1);
        uint8_t *out;
        memcpy(hex, p, n);
        hex[n] = '\0';
        out = hex_alloc(hex, len);
        free(hex);
        return out;
    }
}

/* the RNG hook hands out the vector's randomness in the order the engine draws it:
 * ML-KEM's m first, then the server's X25519 private key */
static const uint8_t *draws[2];
static size_t draws_len[2], draw_i;

static void from_vector(uint8_t *buf, size_t len, void *ctx)
{
    (void)ctx;
    if (draw_i < 2 && draws_len[draw_i] == len) {
        memcpy(buf, draws[draw_i++], len);
    } else {
        memset(buf, 0xee, len);
        draw_i = 99; /* an unexpected draw: the checks below will fail */
    }
}

int main(void)
{
    const struct mica_group *g = mica_group_by_name("X25519MLKEM768");
    size_t n, seed_len, cpriv_len, cks_len, sks_len, ss_len, m_len, spriv_len;
    uint8_t *seed, *cpriv, *cks, *sks, *ss, *m, *spriv, priv[96];
    uint8_t pub[MICA_MAX_KX_PUBLIC_LEN], share[MICA_MAX_KX_PUBLIC_LEN];
    size_t pub_len = 0, share_len = 0;
    mica_kx_key *client = NULL;
    MICA_KX_SHARED(server_ss);
    MICA_KX_SHARED(client_ss);

    text = vec_read_file(vec_path("tls-hybrid/x25519mlkem768.txt"), &n);
    CHECK(text != NULL && g != NULL);
    if (text == NULL || g == NULL) {
        return check_exit("test_hybrid");
    }
    seed = val("mlkem_seed_d_z", &seed_len);
    cpriv = val("x25519_client_private", &cpriv_len);
    cks = val("client_key_share", &cks_len);
    sks = val("server_key_share", &sks_len);
    ss = val("shared_secret", &ss_len);
    m = val("mlkem_m", &m_len);
    spriv = val("x25519_server_private", &spriv_len);
    CHECK(cks_len == 1216 && sks_len == 1120 && ss_len == 64);

    /* client: the key pair from the ML-KEM seed and the X25519 private key */
    memcpy(priv, seed, 64);
    memcpy(priv + 64, cpriv, 32);
    CHECK_OK(mica_kx_key_from_private(g, priv, 96, &client, pub, sizeof(pub), &pub_len));
    CHECK(pub_len == cks_len);
    CHECK_MEM("client key share (ek || x25519)", pub, cks, cks_len);

    /* server: encapsulates to the client's share with the vector's randomness */
    draws[0] = m;
    draws_len[0] = m_len;
    draws[1] = spriv;
    draws_len[1] = spriv_len;
    draw_i = 0;
    mica_rand_set_hook(from_vector, NULL);
    CHECK_OK(mica_kx_encap(g, cks, cks_len, share, sizeof(share), &share_len, &server_ss));
    mica_rand_set_hook(NULL, NULL);
    CHECK(draw_i == 2);
    CHECK(share_len == sks_len);
    CHECK_MEM("server key share (ct || x25519)", share, sks, sks_len);
    CHECK(server_ss.len == 64);
    CHECK_MEM("server's shared secret (K || x25519)", server_ss.b, ss, 64);

    /* client: decapsulates */
    CHECK_OK(mica_kx_decap(client, sks, sks_len, &client_ss));
    CHECK(client_ss.len == 64);
    CHECK_MEM("client's shared secret", client_ss.b, ss, 64);

    /* through the key schedule: the handshake secret for both hashes */
    {
        static const struct {
            const struct mica_hash_desc *h;
            const char *name;
        } hs[] = {{&mica_hash_sha256, "sha256_handshake_secret"},
                  {&mica_hash_sha384, "sha384_handshake_secret"}};
        for (size_t i = 0; i < 2; i++) {
            struct mica_keysched ks;
            size_t want_len;
            uint8_t *want = val(hs[i].name, &want_len);
            mica_ks_init(&ks, hs[i].h);
            CHECK_OK(mica_ks_early(&ks, NULL, 0));
            CHECK_OK(mica_ks_handshake(&ks, client_ss.b, client_ss.len));
            CHECK(ks.secret.len == want_len);
            CHECK_MEM(hs[i].name, ks.secret.b, want, want_len);
            mica_ks_clear(&ks);
            free(want);
        }
    }

    /* error paths (draft 4.2): a server share of the wrong length, an all-zero X25519 half,
     * a client share whose encapsulation key fails the modulus check */
    {
        uint8_t bad[MICA_MAX_KX_PUBLIC_LEN];
        MICA_KX_SHARED(out);
        CHECK_ERR(mica_kx_decap(client, sks, sks_len - 1, &out), MICA_E_BAD_PEER_KEY);
        memcpy(bad, sks, sks_len);
        memset(bad + 1088, 0, 32);
        CHECK_ERR(mica_kx_decap(client, bad, sks_len, &out), MICA_E_ZERO_SHARED);
        CHECK(out.len == 0);
        memcpy(bad, cks, cks_len);
        bad[0] = 0xff;
        bad[1] |= 0x0f; /* first coefficient 0xfff >= q = 3329 */
        CHECK_ERR(mica_kx_encap(g, bad, cks_len, share, sizeof(share), &share_len, &out),
                  MICA_E_BAD_PEER_KEY);
        CHECK_ERR(mica_kx_encap(g, cks, cks_len + 1, share, sizeof(share), &share_len, &out),
                  MICA_E_BAD_PEER_KEY);
        /* a tampered ciphertext is not an error (implicit rejection), but a different K */
        memcpy(bad, sks, sks_len);
        bad[10] ^= 1;
        CHECK_OK(mica_kx_decap(client, bad, sks_len, &out));
        CHECK(out.len == 64 && memcmp(out.b, ss, 32) != 0 && memcmp(out.b + 32, ss + 32, 32) == 0);
    }

    mica_kx_free(client);
    free(seed);
    free(cpriv);
    free(cks);
    free(sks);
    free(ss);
    free(m);
    free(spriv);
    free(text);
    return check_exit("test_hybrid");
}

/* mica_config: lists, ALPN, limits, certificate chains and trust, each misuse refused. */
#include <string.h>

#include "check.h"
#include "harness.h"
#include "vec.h"

static char path_buf[2][512];

static const char *cert(int slot, const char *name)
{
    snprintf(path_buf[slot], sizeof(path_buf[slot]), "%s", vec_path("certs/"));
    snprintf(path_buf[slot] + strlen(path_buf[slot]),
             sizeof(path_buf[slot]) - strlen(path_buf[slot]), "%s", name);
    return path_buf[slot];
}

int main(void)
{
    mica_config *cfg = mica_config_new();
    mica_conn *c = NULL;

    CHECK(cfg != NULL);
    /* algorithm lists: known names, any of ':' ',' ' ' as separators; unknown, empty or
     * repeated names refused and the old list kept */
    CHECK_OK(mica_config_set_cipher_suites(cfg, "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"));
    CHECK_OK(
        mica_config_set_cipher_suites(cfg, "TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_CCM_SHA256"));
    CHECK_ERR(mica_config_set_cipher_suites(cfg, "TLS_RSA_WITH_AES_128_CBC_SHA"), MICA_E_ARGUMENT);
    CHECK_ERR(mica_config_set_cipher_suites(cfg, ""), MICA_E_ARGUMENT);
    CHECK_ERR(mica_config_set_cipher_suites(cfg, "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_SHA256"),
              MICA_E_ARGUMENT);
    CHECK_OK(mica_config_set_groups(cfg, "x448:secp521r1"));
    CHECK_ERR(mica_config_set_groups(cfg, "ffdhe2048"), MICA_E_ARGUMENT);
    CHECK_ERR(mica_config_set_groups(cfg, "x25519x"), MICA_E_ARGUMENT);
    CHECK_OK(mica_config_set_sig_schemes(cfg, "ed25519:rsa_pss_rsae_sha256"));
    CHECK_ERR(mica_config_set_sig_schemes(cfg, "dsa_sha256"), MICA_E_ARGUMENT);
    /* ALPN: 1..255-byte names */
    CHECK_OK(mica_config_set_alpn(cfg, "h2,http/1.1"));
    CHECK_ERR(mica_config_set_alpn(cfg, ""), MICA_E_ARGUMENT);
    CHECK_ERR(mica_config_set_alpn(cfg, "h2,,http/1.1"), MICA_E_ARGUMENT);
    CHECK_ERR(mica_config_set_alpn(cfg, "h2,"), MICA_E_ARGUMENT);
    {
        char longname[300];
        memset(longname, 'a', sizeof(longname));
        longname[256] = '\0';
        CHECK_ERR(mica_config_set_alpn(cfg, longname), MICA_E_ARGUMENT);
        longname[255] = '\0';
        CHECK_OK(mica_config_set_alpn(cfg, longname));
    }
    /* limits */
    CHECK_ERR(mica_config_set_max_handshake_size(cfg, 1023), MICA_E_ARGUMENT);
    CHECK_OK(mica_config_set_max_handshake_size(cfg, 1024));
    CHECK_ERR(mica_config_set_max_handshake_size(cfg, 1u << 24), MICA_E_ARGUMENT);
    CHECK_ERR(mica_config_set_record_size_limit(cfg, 63), MICA_E_ARGUMENT);
    CHECK_ERR(mica_config_set_record_size_limit(cfg, 16386), MICA_E_ARGUMENT);
    CHECK_OK(mica_config_set_record_size_limit(cfg, 16385));
    CHECK_OK(mica_config_set_record_size_limit(cfg, 64));
    /* certificate chains: the key must be the leaf's, usable for TLS 1.3, RSA >= 2048 */
    CHECK_OK(mica_config_add_cert_chain_file(cfg, cert(0, "ecdsa-p256.chain.pem"),
                                             cert(1, "ecdsa-p256.key")));
    CHECK_ERR(mica_config_add_cert_chain_file(cfg, cert(0, "ecdsa-p256.chain.pem"),
                                              cert(1, "rsa2048.key")),
              MICA_E_KEY_MISMATCH);
    CHECK_ERR(
        mica_config_add_cert_chain_file(cfg, cert(0, "rsa1024.chain.pem"), cert(1, "rsa1024.key")),
        MICA_E_UNSUPPORTED);
    CHECK_ERR(mica_config_add_cert_chain_file(cfg, cert(0, "ca.key"), cert(1, "ca.key")),
              MICA_E_DECODE);
    CHECK_ERR(mica_config_add_cert_chain_file(cfg, cert(0, "no-such.pem"), cert(1, "ca.key")),
              MICA_E_ARGUMENT);
    CHECK_ERR(mica_config_add_cert_chain_pem(cfg, "garbage", 7, "garbage", 7), MICA_E_DECODE);
    /* trust */
    CHECK_ERR(mica_config_set_ca_file(cfg, cert(0, "no-such.pem")), MICA_E_ARGUMENT);
    CHECK_OK(mica_config_set_ca_file(cfg, cert(0, "ca.pem")));
    CHECK_ERR(mica_config_set_ca_pem(cfg, "not pem", 7), MICA_E_DECODE);
    /* a client needs a name to verify against, unless verification is off */
    CHECK_ERR(mica_conn_new_client(cfg, NULL, &c), MICA_E_ARGUMENT);
    {
        char name[300];
        memset(name, 'a', sizeof(name));
        name[256] = '\0';
        CHECK_ERR(mica_conn_new_client(cfg, name, &c), MICA_E_ARGUMENT);
    }
    mica_config_insecure_no_verify(cfg);
    CHECK_OK(mica_conn_new_client(cfg, NULL, &c));
    CHECK(!mica_conn_is_connected(c) && mica_conn_error(c) == MICA_OK);
    CHECK(mica_conn_version(c) == NULL && mica_conn_cipher_suite(c) == NULL);
    mica_conn_free(c);
    mica_config_free(cfg);
    mica_config_free(NULL);
    mica_conn_free(NULL);
    return check_exit("test_config");
}

/*
 * ML-KEM-768 (FIPS 203, August 2024): key generation, encapsulation, decapsulation.
 *
 * Internal to the crypto gate; the key-exchange code (kx.c) builds the TLS groups
 * X25519MLKEM768, SecP256r1MLKEM768 and MLKEM768 on it. Two implementations sit behind
 * these functions, chosen once per process:
 *
 *   - libcrypto's, when the running libcrypto has one (OpenSSL 3.5 and later: the
 *     "ML-KEM-768" KEM is fetched at start-up);
 *   - otherwise mica's own, in mlkem.c: the one hand-written primitive in mica, because
 *     Debian 12's libcrypto (OpenSSL 3.0) has none. SHA3-256, SHA3-512, SHAKE128 and
 *     SHAKE256 still come from libcrypto.
 *
 * Both give the same bytes for the same inputs and the same errors for the same bad
 * inputs: the FIPS 203 input checks (7.2, 7.3) are mica's own code in front of either.
 *
 * Constant time: every function here runs in time independent of secret data (seeds,
 * m, decapsulation keys, shared secrets, and whether decapsulation implicitly
 * rejected). Public data (the encapsulation key, the ciphertext, the matrix seed rho)
 * may steer branches: SampleNTT's rejection loop depends on rho alone.
 *
 * Sizes (FIPS 203 Table 3, ML-KEM-768: k = 3, du = 10, dv = 4):
 *   encapsulation key  ek  1184 bytes   ByteEncode12(t) || rho
 *   decapsulation key  dk  2400 bytes   dkPKE(1152) || ek(1184) || H(ek)(32) || z(32)
 *   ciphertext         c   1088 bytes
 *   shared secret      K     32 bytes
 *   key-generation seed    64 bytes     d || z (FIPS 203 3.3: as secret as dk)
 *
 * Errors, the same for both implementations:
 *   MICA_E_BAD_PEER_KEY  an encapsulation key of the wrong length or failing the 7.2
 *                        modulus check; a ciphertext of the wrong length (both arrive
 *                        as a TLS key share: illegal_parameter, as for a bad EC point)
 *   MICA_E_ARGUMENT      a decapsulation key of the wrong length or failing the 7.3 hash
 *                        check (it is our own key, so a caller error); NULL with a length
 *   MICA_E_CRYPTO        libcrypto failed (SHA-3 missing, an EVP call failed)
 *   MICA_E_NOMEM         an allocation failed
 * On any error the outputs hold no secret (they are zeroed).
 *
 *     uint8_t ek[MICA_MLKEM768_EK_LEN], dk[MICA_MLKEM768_DK_LEN];
 *     uint8_t ct[MICA_MLKEM768_CT_LEN], k1[32], k2[32];
 *     TRY(mica_mlkem768_keygen(ek, dk));                      (client)
 *     TRY(mica_mlkem768_encaps(ek, sizeof(ek), ct, k1));      (server, ek from the client)
 *     TRY(mica_mlkem768_decaps(dk, ct, sizeof(ct), k2));      (client: k2 == k1)
 */
#ifndef MICA_CRYPTO_MLKEM_H
#define MICA_CRYPTO_MLKEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define MICA_MLKEM768_EK_LEN 1184u
#define MICA_MLKEM768_DK_LEN 2400u
#define MICA_MLKEM768_CT_LEN 1088u
#define MICA_MLKEM768_SS_LEN 32u
#define MICA_MLKEM768_SEED_LEN 64u
#define MICA_MLKEM768_M_LEN 32u

/* mica_mlkem768_keygen_seed: ML-KEM.KeyGen_internal(d, z) (FIPS 203 Algorithm 16) with
 * seed = d || z. Deterministic: the same seed always gives the same key pair. */
MICA_MUST mica_err mica_mlkem768_keygen_seed(const uint8_t seed[MICA_MLKEM768_SEED_LEN],
                                             uint8_t ek[MICA_MLKEM768_EK_LEN],
                                             uint8_t dk[MICA_MLKEM768_DK_LEN]);

/* mica_mlkem768_keygen: ML-KEM.KeyGen (Algorithm 19): a fresh key pair, its seed drawn
 * from mica_rand (so the test RNG hook makes it reproducible) and wiped afterwards. */
MICA_MUST mica_err mica_mlkem768_keygen(uint8_t ek[MICA_MLKEM768_EK_LEN],
                                        uint8_t dk[MICA_MLKEM768_DK_LEN]);

/* mica_mlkem768_ek_check: the encapsulation key check of FIPS 203 7.2: ek_len is 1184
 * (type check) and every 12-bit coefficient of ek[0..1152) is below q = 3329 (modulus
 * check, "ByteEncode12(ByteDecode12(ek)) == ek"). MICA_OK or MICA_E_BAD_PEER_KEY. */
MICA_MUST mica_err mica_mlkem768_ek_check(const uint8_t *ek, size_t ek_len);

/* mica_mlkem768_dk_check: the decapsulation key checks of FIPS 203 7.3: dk_len is 2400
 * and H(dk[1152..2336)) == dk[2336..2368). MICA_OK or MICA_E_ARGUMENT. */
MICA_MUST mica_err mica_mlkem768_dk_check(const uint8_t *dk, size_t dk_len);

/* mica_mlkem768_encaps_m: ML-KEM.Encaps_internal(ek, m) (Algorithm 17) after the 7.2
 * check of ek: ciphertext into ct, shared secret into ss. Deterministic in m; for test
 * vectors. m must be fresh randomness in any real use (use mica_mlkem768_encaps). */
MICA_MUST mica_err mica_mlkem768_encaps_m(const uint8_t *ek, size_t ek_len,
                                          const uint8_t m[MICA_MLKEM768_M_LEN],
                                          uint8_t ct[MICA_MLKEM768_CT_LEN],
                                          uint8_t ss[MICA_MLKEM768_SS_LEN]);

/* mica_mlkem768_encaps: ML-KEM.Encaps (Algorithm 20) with m from mica_rand, after the
 * 7.2 check of ek (a TLS server runs it on every client share). */
MICA_MUST mica_err mica_mlkem768_encaps(const uint8_t *ek, size_t ek_len,
                                        uint8_t ct[MICA_MLKEM768_CT_LEN],
                                        uint8_t ss[MICA_MLKEM768_SS_LEN]);

/* mica_mlkem768_decaps: ML-KEM.Decaps (Algorithm 21) after the 7.3 checks (ciphertext
 * length; the hash check of dk). A ciphertext of the right length that does not
 * re-encrypt to itself is not an error: implicit rejection gives K = J(z || c), in
 * constant time, and nothing tells the caller which case happened. */
MICA_MUST mica_err mica_mlkem768_decaps(const uint8_t dk[MICA_MLKEM768_DK_LEN], const uint8_t *ct,
                                        size_t ct_len, uint8_t ss[MICA_MLKEM768_SS_LEN]);

/* ---- which implementation runs ------------------------------------------------- */

enum mica_mlkem_impl {
    MICA_MLKEM_IMPL_OWN,       /* mlkem.c's FIPS 203 code */
    MICA_MLKEM_IMPL_LIBCRYPTO, /* the running libcrypto's "ML-KEM-768" (OpenSSL >= 3.5) */
};

/* mica_mlkem768_impl: the implementation the functions above use. */
enum mica_mlkem_impl mica_mlkem768_impl(void);

/* mica_mlkem768_libcrypto_available: whether the running libcrypto has ML-KEM-768. */
bool mica_mlkem768_libcrypto_available(void);

/* Test hook: force one implementation for the whole process (not thread-safe; tests run
 * every vector through each implementation the machine has). MICA_E_UNSUPPORTED when
 * libcrypto has none. The default is libcrypto's when available, else mica's own. */
MICA_MUST mica_err mica_mlkem768_set_impl(enum mica_mlkem_impl impl);

/* ---- internals, exported for the unit tests only (mica's own implementation) --- */

/* Barrett reduction: x mod q for x < q + 2 q^2 (the widest input mlkem.c makes). */
uint16_t mica_mlkem_reduce(uint32_t x);
/* Compress_d(x) (FIPS 203 (4.7)) for x < q, 1 <= d <= 11; Decompress_d(y) (4.8). */
uint16_t mica_mlkem_compress(uint16_t x, unsigned d);
uint16_t mica_mlkem_decompress(uint16_t y, unsigned d);

/* SampleNTT(rho || j || i) (Algorithm 7) with the first XOF squeeze first_len bytes
 * long, clamped to 3..MICA_MLKEM_XOF_FIRST (the library always uses the maximum); a
 * smaller value exercises the path that squeezes more from the same input.
 * Coefficients into a[0..256). */
#define MICA_MLKEM_XOF_FIRST 840u
MICA_MUST mica_err mica_mlkem_sample_ntt(const uint8_t rho[32], uint8_t j, uint8_t i,
                                         size_t first_len, uint16_t a[256]);

/* K-PKE.KeyGen (Algorithm 13) from step 2 on, given (rho, sigma) = G(d || k): ekPKE and
 * dkPKE = ByteEncode12(s^). Lets the CCTV intermediate values (made for the FIPS 203
 * draft, whose step 1 was G(d)) check everything after step 1. */
MICA_MUST mica_err mica_mlkem768_kpke_keygen(const uint8_t rho[32], const uint8_t sigma[32],
                                             uint8_t ek[MICA_MLKEM768_EK_LEN],
                                             uint8_t dk_pke[1152]);

#endif /* MICA_CRYPTO_MLKEM_H */

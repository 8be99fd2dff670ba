/*
 * Handshake messages and extensions of RFC 8446 section 4: the decoded forms, the pure
 * decoders, the encoders and the extension table.
 *
 * Decoders are pure (STYLE.md 2.3): bytes in, a typed struct or an error out, no
 * connection state. They check syntax completely -- every vector bound of the RFC,
 * every sub-structure consumed exactly, every extension allowed in this message and
 * present at most once (the table, ext_table.c) -- and leave semantics (is this group
 * one we offered?) to the state handlers. Decoded structs borrow from the input bytes:
 * lists stay as mica_rd views over the wire, so no decoder allocates.
 *
 * Errors: MICA_E_DECODE for anything that does not parse (decode_error);
 * MICA_E_ILLEGAL_PARAMETER for a known extension where RFC 8446 4.2 does not allow it,
 * or for a duplicate extension (illegal_parameter), and for the few values a decoder can
 * reject on its own (record_size_limit below 64, RFC 8449 4; a KeyUpdate request_update
 * other than 0 or 1; PSK identities and binders of different counts). A decoder that
 * fails leaves its output struct in an unspecified state. "Sent but never offered"
 * (unsupported_extension) needs the offer and is checked by the client with
 * mica_ext_check_offered().
 *
 * One file per message in src/tls/msg/, one per extension in src/tls/ext/ (s2n).
 */
#ifndef MICA_TLS_MSG_H
#define MICA_TLS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rd.h"
#include "base/wr.h"

/* RFC 8446 4: HandshakeType */
enum mica_hs_type {
    MICA_HS_CLIENT_HELLO = 1,
    MICA_HS_SERVER_HELLO = 2,
    MICA_HS_NEW_SESSION_TICKET = 4,
    MICA_HS_END_OF_EARLY_DATA = 5,
    MICA_HS_ENCRYPTED_EXTENSIONS = 8,
    MICA_HS_CERTIFICATE = 11,
    MICA_HS_CERTIFICATE_REQUEST = 13,
    MICA_HS_CERTIFICATE_VERIFY = 15,
    MICA_HS_FINISHED = 20,
    MICA_HS_KEY_UPDATE = 24,
    MICA_HS_MESSAGE_HASH = 254
};
const char *mica_hs_type_name(uint8_t type); /* "ClientHello", ... or "unknown" */

/* RFC 8446 4.2 ExtensionType values mica knows */
enum mica_ext_type {
    MICA_EXT_SERVER_NAME = 0,
    MICA_EXT_MAX_FRAGMENT_LENGTH = 1,
    MICA_EXT_STATUS_REQUEST = 5,
    MICA_EXT_SUPPORTED_GROUPS = 10,
    MICA_EXT_SIGNATURE_ALGORITHMS = 13,
    MICA_EXT_USE_SRTP = 14,
    MICA_EXT_HEARTBEAT = 15,
    MICA_EXT_ALPN = 16,
    MICA_EXT_SCT = 18,
    MICA_EXT_CLIENT_CERTIFICATE_TYPE = 19,
    MICA_EXT_SERVER_CERTIFICATE_TYPE = 20,
    MICA_EXT_PADDING = 21,
    MICA_EXT_RECORD_SIZE_LIMIT = 28,
    MICA_EXT_PRE_SHARED_KEY = 41,
    MICA_EXT_EARLY_DATA = 42,
    MICA_EXT_SUPPORTED_VERSIONS = 43,
    MICA_EXT_COOKIE = 44,
    MICA_EXT_PSK_KEY_EXCHANGE_MODES = 45,
    MICA_EXT_CERTIFICATE_AUTHORITIES = 47,
    MICA_EXT_OID_FILTERS = 48,
    MICA_EXT_POST_HANDSHAKE_AUTH = 49,
    MICA_EXT_SIGNATURE_ALGORITHMS_CERT = 50,
    MICA_EXT_KEY_SHARE = 51
};

/* The messages an extension may appear in (RFC 8446 4.2 table), as bits. */
enum mica_ext_where {
    MICA_IN_CH = 1u << 0,
    MICA_IN_SH = 1u << 1,
    MICA_IN_HRR = 1u << 2,
    MICA_IN_EE = 1u << 3,
    MICA_IN_CT = 1u << 4,
    MICA_IN_CR = 1u << 5,
    MICA_IN_NST = 1u << 6
};

struct mica_ext_row {
    uint16_t type;
    const char *name; /* "key_share" */
    unsigned where;   /* enum mica_ext_where bits */
    uint8_t index;    /* bit position in a seen/offered mask */
};

/* mica_ext_find: the table row of an extension type, or NULL for one mica does not
 * know (unknown extensions are ignored, RFC 8446 4.2, and GREASE values are unknown). */
const struct mica_ext_row *mica_ext_find(uint16_t type);

/*
 * mica_ext_check: the per-message rules, applied by each decoder to each extension it
 * meets. *seen is the mask of known extensions met so far in this message.
 *   - known, not allowed in `where` -> MICA_E_ILLEGAL_PARAMETER (RFC 8446 4.2: "MUST
 *     abort the handshake with an illegal_parameter alert")
 *   - known, already seen -> MICA_E_ILLEGAL_PARAMETER (4.2: "MUST NOT appear more than
 *     once"; several stacks use decode_error; we follow the RFC's 4.2 wording)
 *   - unknown -> MICA_OK, ignored (in a CH; in other messages too: a server must not send
 *     them, but an unknown type cannot be checked against an offer we did not make -- the
 *     client rejects it with mica_ext_check_offered)
 */
MICA_MUST mica_err mica_ext_check(uint16_t type, unsigned where, uint64_t *seen);

/* mica_ext_check_offered: in a server's message, every extension must answer one the
 * client sent (4.2: "MUST abort the handshake with an unsupported_extension alert");
 * cookie in an HRR is the exception. `offered` is the mask of the ClientHello's known
 * extensions; `sent` is the mask seen in the server's message. Returns
 * MICA_E_UNSUPPORTED_EXTENSION and, through *which, the first such extension type. */
MICA_MUST mica_err mica_ext_check_offered(uint64_t offered, uint64_t sent, unsigned where,
                                          uint16_t *which);

/* The index of a known extension type in the masks (for present/offered bits); 0 for a
 * type mica does not know. */
uint64_t mica_ext_bit(uint16_t type);

/* In a seen/present mask: at least one extension mica does not know was there (set by
 * mica_ext_check; mica_ext_check_offered then reports *which = MICA_EXT_UNKNOWN). */
#define MICA_EXT_UNKNOWN_BIT ((uint64_t)1 << 63)
#define MICA_EXT_UNKNOWN 0xffffu

/* ---- decoded messages ---------------------------------------------------------------- */

/* A handshake message header: msg_type(1) length(3) then the body. */
struct mica_hs_header {
    uint8_t type;
    uint32_t len;
};
/* mica_msg_header: MICA_WANT_READ if fewer than 4 bytes; no limit check here. */
MICA_MUST mica_err mica_msg_header(const uint8_t *p, size_t avail, struct mica_hs_header *h);

/* Lists stay as readers over the wire; iterate with mica_rd_u16 etc. Each is checked
 * by its decoder to be well formed (even length for u16 lists, etc.). */

struct mica_key_share_entry {
    uint16_t group;
    mica_rd key; /* opaque key_exchange<1..2^16-1> */
};

/* PSK offer: RFC 8446 4.2.11 */
struct mica_psk_offer {
    mica_rd identities; /* PskIdentity identities<7..2^16-1>, validated */
    mica_rd binders;    /* PskBinderEntry binders<33..2^16-1>, validated */
    size_t identities_n;
    size_t binders_n;      /* == identities_n, else MICA_E_ILLEGAL_PARAMETER */
    size_t binders_offset; /* offset in the ClientHello message (header included) where the
                              binders list (with its length prefix) starts: the transcript
                              for binders is msg[0..binders_offset) (4.2.11.2) */
};

/*
 * Iterators over the lists that decoded messages keep as readers. Each reads one element
 * from the front of *list (a copy of the struct's reader) and fails with MICA_E_DECODE
 * if it does not parse; the decoders have already walked every list with these same
 * functions, so on a decoded struct they only fail if *list was not copied from it.
 *
 *     mica_rd l = ch.key_shares;
 *     struct mica_key_share_entry e;
 *     while (l.n > 0) {
 *         TRY(mica_ext_next_key_share(&l, &e));
 *         ...
 *     }
 */
/* KeyShareEntry: group(2) key_exchange<1..2^16-1> (RFC 8446 4.2.8) */
MICA_MUST mica_err mica_ext_next_key_share(mica_rd *list, struct mica_key_share_entry *e);
/* PskIdentity: identity<1..2^16-1> obfuscated_ticket_age(4) (RFC 8446 4.2.11) */
MICA_MUST mica_err mica_ext_next_psk_identity(mica_rd *list, mica_rd *identity, uint32_t *age);
/* PskBinderEntry<32..255> (RFC 8446 4.2.11) */
MICA_MUST mica_err mica_ext_next_psk_binder(mica_rd *list, mica_rd *binder);
/* ProtocolName<1..2^8-1> (RFC 7301 3.1) */
MICA_MUST mica_err mica_ext_next_protocol_name(mica_rd *list, mica_rd *name);

struct mica_client_hello {
    uint16_t legacy_version;
    const uint8_t *random; /* 32 bytes */
    mica_rd session_id;    /* <0..32> */
    mica_rd cipher_suites; /* <2..2^16-2>, u16 list */
    mica_rd compression;   /* <1..2^8-1> */
    bool has_extensions;   /* false: a pre-TLS 1.2 style hello with no extensions */
    uint64_t present;      /* mica_ext_bit() of each known extension present */
    /* decoded extensions (valid when their bit is in present) */
    mica_rd server_name;   /* the host_name of server_name, 1..255 bytes (longer: DECODE);
                              empty if the list names only other name types */
    mica_rd groups;        /* supported_groups, u16 list <2..2^16-1> */
    mica_rd sig_algs;      /* signature_algorithms, u16 list <2..2^16-2> */
    mica_rd sig_algs_cert; /* signature_algorithms_cert */
    mica_rd versions;      /* supported_versions, u16 list <2..254> */
    mica_rd key_shares;    /* KeyShareEntry client_shares<0..2^16-1>, validated */
    mica_rd cookie;        /* <1..2^16-1> */
    uint8_t psk_modes;     /* bit 0: psk_ke(0), bit 1: psk_dhe_ke(1) */
    struct mica_psk_offer psk;
    mica_rd alpn;               /* ProtocolName protocol_name_list<2..2^16-1>, validated */
    uint16_t record_size_limit; /* >= 64, else MICA_E_ILLEGAL_PARAMETER (RFC 8449 4) */
    bool status_request;        /* status_type ocsp(1); other types are ignored */
    bool early_data;
    bool post_handshake_auth;
    uint16_t last_ext; /* type of the last extension (pre_shared_key must be last) */
};
/* msg/msg_len: the whole message, its 4-byte header included (needed for
 * psk.binders_offset). The header must say client_hello and give msg_len - 4 as the
 * body length, else MICA_E_DECODE. That pre_shared_key is the last extension (4.2.11)
 * is not checked here: the server's handler checks last_ext. */
MICA_MUST mica_err mica_msg_decode_client_hello(const uint8_t *msg, size_t msg_len,
                                                struct mica_client_hello *ch);

/* ServerHello and HelloRetryRequest share a message (RFC 8446 4.1.3, 4.1.4). A hello
 * without a supported_versions extension (or with no extensions at all) is TLS 1.2 or
 * older: only the framing of its extensions is checked, present stays 0, and the handler
 * answers protocol_version (4.2.1: clients check that extension "prior to processing
 * the rest of the ServerHello"). */
struct mica_server_hello {
    uint16_t legacy_version;
    const uint8_t *random;   /* 32 bytes */
    bool is_hrr;             /* random == SHA-256("HelloRetryRequest") */
    mica_rd session_id_echo; /* <0..32> */
    uint16_t cipher_suite;
    uint8_t compression;
    uint64_t present;
    uint16_t version;                  /* supported_versions selected_version */
    struct mica_key_share_entry share; /* SH: server_share; HRR: share.group only */
    mica_rd cookie;                    /* HRR only */
    bool psk_selected;
    uint16_t psk_identity; /* SH: selected_identity */
};
MICA_MUST mica_err mica_msg_decode_server_hello(const uint8_t *body, size_t len,
                                                struct mica_server_hello *sh);

struct mica_encrypted_extensions {
    uint64_t present;
    bool server_name_ack;       /* empty server_name */
    mica_rd groups;             /* supported_groups (informational) */
    mica_rd alpn_selected;      /* the one ProtocolName's bytes (1..255), no length prefix */
    uint16_t record_size_limit; /* >= 64, else MICA_E_ILLEGAL_PARAMETER (RFC 8449 4) */
    bool early_data;
};
MICA_MUST mica_err mica_msg_decode_encrypted_extensions(const uint8_t *body, size_t len,
                                                        struct mica_encrypted_extensions *ee);

struct mica_certificate_request {
    mica_rd context; /* <0..2^8-1> */
    uint64_t present;
    mica_rd sig_algs; /* required (4.3.2: "MUST be specified"): else
                         MICA_E_MISSING_EXTENSION */
    mica_rd sig_algs_cert;
    bool status_request; /* empty (4.4.2.1) or an ocsp(1) CertificateStatusRequest */
    mica_rd authorities; /* certificate_authorities: DistinguishedName list, validated */
};
MICA_MUST mica_err mica_msg_decode_certificate_request(const uint8_t *body, size_t len,
                                                       struct mica_certificate_request *cr);
/* mica_msg_encode_certificate_request: the whole message (header included) with the
 * context, a signature_algorithms extension and (authorities_len > 0) a
 * certificate_authorities extension holding authorities (the DistinguishedName list
 * without its length); overflow is the writer's sticky state. */
void mica_msg_encode_certificate_request(mica_wr *w, const uint8_t *context, size_t context_len,
                                         const uint16_t *sig_algs, size_t sig_algs_n,
                                         const uint8_t *authorities, size_t authorities_len);

/* Certificate (4.4.2). Entries are iterated with mica_msg_next_cert_entry. */
struct mica_certificate {
    mica_rd context; /* <0..2^8-1> */
    mica_rd entries; /* CertificateEntry certificate_list<0..2^24-1>, validated */
    size_t entries_n;
};
struct mica_cert_entry {
    mica_rd cert_data;     /* ASN.1Cert <1..2^24-1> */
    mica_rd ocsp_response; /* from a status_request extension (a CertificateStatus of
                              type ocsp(1), else DECODE): the OCSPResponse, empty if none */
    uint64_t present;
};
MICA_MUST mica_err mica_msg_decode_certificate(const uint8_t *body, size_t len,
                                               struct mica_certificate *c);
/* mica_msg_next_cert_entry: the next entry from *list (a copy of c->entries). */
MICA_MUST mica_err mica_msg_next_cert_entry(mica_rd *list, struct mica_cert_entry *e);

struct mica_certificate_verify {
    uint16_t scheme;
    mica_rd signature; /* <0..2^16-1> */
};
MICA_MUST mica_err mica_msg_decode_certificate_verify(const uint8_t *body, size_t len,
                                                      struct mica_certificate_verify *cv);

struct mica_new_session_ticket {
    uint32_t lifetime;
    uint32_t age_add;
    mica_rd nonce;  /* <0..255> */
    mica_rd ticket; /* <1..2^16-1> */
    uint64_t present;
    uint32_t max_early_data; /* early_data extension, if present */
};
MICA_MUST mica_err mica_msg_decode_new_session_ticket(const uint8_t *body, size_t len,
                                                      struct mica_new_session_ticket *nst);

/* KeyUpdate (4.6.3): request_update is 0 or 1; anything else is illegal_parameter. */
MICA_MUST mica_err mica_msg_decode_key_update(const uint8_t *body, size_t len, bool *request);

/* Finished: the verify_data is the whole body; its length is the hash length. */
/* EndOfEarlyData: an empty body. */

/* Alert (6): level(1) description(1); exactly two bytes. */
MICA_MUST mica_err mica_msg_decode_alert(const uint8_t *body, size_t len, uint8_t *level,
                                         uint8_t *description);

/* ---- encoders (into a writer; the caller opens the 4-byte header) -------------------- */

/* mica_msg_open / mica_msg_close: write a handshake header and fill in its length. */
void mica_msg_open(mica_wr *w, enum mica_hs_type type, size_t *mark);
void mica_msg_close(mica_wr *w, size_t mark);

#endif /* MICA_TLS_MSG_H */

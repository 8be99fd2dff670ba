/*
 * Extension decode helpers, shared by the message decoders in src/tls/msg/ (internal to
 * the message layer; the engine uses tls/msg.h).
 *
 * Each helper takes one extension's extension_data as a reader by value, decodes it as
 * the RFC struct for the message it appears in, and consumes it completely (it ends with
 * mica_rd_end, so trailing bytes are MICA_E_DECODE). Every list is walked to its end, so
 * a list a decoder hands on is known to be well formed. Outputs borrow from the input.
 */
#ifndef MICA_TLS_EXT_EXT_H
#define MICA_TLS_EXT_EXT_H

#include <stdbool.h>
#include <stdint.h>

#include "tls/msg.h"

/*
 * mica_ext_next: read one Extension from the front of *exts (RFC 8446 4.2):
 *     struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; }
 * *type gets the type, *data the extension_data.
 */
MICA_MUST mica_err mica_ext_next(mica_rd *exts, uint16_t *type, mica_rd *data);

/* mica_ext_find_in: walk every Extension of exts (checking only their framing) and tell
 * whether one of type `type` is among them. Used where the rules for a message depend on
 * one extension (ServerHello and supported_versions, RFC 8446 4.2.1). */
MICA_MUST mica_err mica_ext_find_in(mica_rd exts, uint16_t type, bool *found);

/* extension_data that must be empty: struct {} (early_data in CH/EE, post_handshake_auth,
 * server_name in EE) */
MICA_MUST mica_err mica_ext_empty(mica_rd d);

/* mica_ext_read_u16_list: read from *r a list of uint16 values with byte bounds
 * [min, max] behind a 2-byte length; every value is read, so an odd length fails.
 * mica_ext_u16_list: the same list as the whole of an extension_data. */
MICA_MUST mica_err mica_ext_read_u16_list(mica_rd *r, mica_rd *list, size_t min, size_t max);
MICA_MUST mica_err mica_ext_u16_list(mica_rd d, size_t min, size_t max, mica_rd *list);

/* server_name (RFC 6066 3): ServerNameList in a ClientHello; *host is the host_name
 * (1..255 bytes), or empty when the list holds only other name types. */
MICA_MUST mica_err mica_ext_server_name_ch(mica_rd d, mica_rd *host);

/* supported_groups (RFC 8446 4.2.7): NamedGroup named_group_list<2..2^16-1> */
MICA_MUST mica_err mica_ext_supported_groups(mica_rd d, mica_rd *groups);

/* signature_algorithms(_cert) (RFC 8446 4.2.3): SignatureScheme list<2..2^16-2> */
MICA_MUST mica_err mica_ext_signature_algorithms(mica_rd d, mica_rd *schemes);

/* supported_versions (RFC 8446 4.2.1): ClientHello versions<2..254>; ServerHello and
 * HelloRetryRequest selected_version */
MICA_MUST mica_err mica_ext_supported_versions_ch(mica_rd d, mica_rd *versions);
MICA_MUST mica_err mica_ext_supported_versions_sh(mica_rd d, uint16_t *version);

/* key_share (RFC 8446 4.2.8): ClientHello client_shares<0..2^16-1>; ServerHello one
 * KeyShareEntry; HelloRetryRequest selected_group */
MICA_MUST mica_err mica_ext_key_share_ch(mica_rd d, mica_rd *shares);
MICA_MUST mica_err mica_ext_key_share_sh(mica_rd d, struct mica_key_share_entry *e);
MICA_MUST mica_err mica_ext_key_share_hrr(mica_rd d, uint16_t *group);

/* cookie (RFC 8446 4.2.2): opaque cookie<1..2^16-1> */
MICA_MUST mica_err mica_ext_cookie(mica_rd d, mica_rd *cookie);

/* pre_shared_key (RFC 8446 4.2.11): OfferedPsks in a ClientHello. base is the start of
 * the whole ClientHello (header included): psk->binders_offset is counted from it. */
MICA_MUST mica_err mica_ext_psk_offer(mica_rd d, const uint8_t *base, struct mica_psk_offer *psk);
/* ServerHello: uint16 selected_identity */
MICA_MUST mica_err mica_ext_psk_selected(mica_rd d, uint16_t *identity);

/* psk_key_exchange_modes (RFC 8446 4.2.9): ke_modes<1..255>; *modes gets bit 0 for
 * psk_ke(0) and bit 1 for psk_dhe_ke(1); other modes are ignored. */
MICA_MUST mica_err mica_ext_psk_modes(mica_rd d, uint8_t *modes);

/* application_layer_protocol_negotiation (RFC 7301 3.1): ClientHello
 * protocol_name_list<2..2^16-1>; EncryptedExtensions exactly one ProtocolName, *name its
 * bytes without the length prefix. */
MICA_MUST mica_err mica_ext_alpn_ch(mica_rd d, mica_rd *list);
MICA_MUST mica_err mica_ext_alpn_ee(mica_rd d, mica_rd *name);

/* status_request (RFC 6066 8, RFC 8446 4.4.2.1): *ocsp is true for an ocsp(1)
 * CertificateStatusRequest. allow_empty: a CertificateRequest may send it empty. */
MICA_MUST mica_err mica_ext_status_request(mica_rd d, bool allow_empty, bool *ocsp);
/* In a CertificateEntry: CertificateStatus with status_type ocsp(1) and
 * OCSPResponse<1..2^24-1> (*response). */
MICA_MUST mica_err mica_ext_status_response(mica_rd d, mica_rd *response);

/* record_size_limit (RFC 8449 4): uint16 RecordSizeLimit, at least 64. */
MICA_MUST mica_err mica_ext_record_size_limit(mica_rd d, uint16_t *limit);

/* early_data (RFC 8446 4.2.10): in a NewSessionTicket, uint32 max_early_data_size. */
MICA_MUST mica_err mica_ext_early_data_nst(mica_rd d, uint32_t *max);

#endif /* MICA_TLS_EXT_EXT_H */

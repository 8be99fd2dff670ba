/*
 * The one error table: code -> default alert, short name, sentence.
 * docs/ERRORS.md is generated from it (`mica errors --markdown`), and
 * tests/unit/test_err.c checks that every code has a row.
 */
#include "base/err.h"

#include <stddef.h>

struct err_row {
    const char *name;
    mica_alert alert;
    const char *sentence;
};

static const struct err_row err_table[MICA_E__COUNT] = {
    [MICA_OK] = {"ok", MICA_ALERT_NONE, "success"},
    [MICA_E_INTERNAL] = {"internal", MICA_ALERT_INTERNAL_ERROR,
                         "an internal invariant of mica did not hold; this is a bug in mica"},
    [MICA_E_NOMEM] = {"nomem", MICA_ALERT_INTERNAL_ERROR, "out of memory"},
    [MICA_E_ARGUMENT] = {"argument", MICA_ALERT_INTERNAL_ERROR,
                         "the caller passed an invalid argument to mica"},
    [MICA_E_DECODE] = {"decode", MICA_ALERT_DECODE_ERROR,
                       "the peer sent a message that does not parse"},
    [MICA_E_ILLEGAL_PARAMETER] = {"illegal_parameter", MICA_ALERT_ILLEGAL_PARAMETER,
                                  "the peer sent a field with a value the protocol forbids"},
    [MICA_E_UNEXPECTED_MESSAGE] = {"unexpected_message", MICA_ALERT_UNEXPECTED_MESSAGE,
                                   "the peer sent a message that is not allowed at this point"},
    [MICA_E_BAD_RECORD_MAC] = {"bad_record_mac", MICA_ALERT_BAD_RECORD_MAC,
                               "a protected record failed authentication: it was altered, "
                               "truncated or protected with other keys"},
    [MICA_E_RECORD_OVERFLOW] = {"record_overflow", MICA_ALERT_RECORD_OVERFLOW,
                                "the peer sent a record longer than the protocol allows"},
    [MICA_E_EMPTY_INNER] = {"empty_inner", MICA_ALERT_UNEXPECTED_MESSAGE,
                            "a protected record's plaintext is all padding and has no "
                            "content type"},
    [MICA_E_CONTENT_TYPE] = {"content_type", MICA_ALERT_UNEXPECTED_MESSAGE,
                             "the peer sent a record with an unknown content type"},
    [MICA_E_SEQ_EXHAUSTED] = {"seq_exhausted", MICA_ALERT_INTERNAL_ERROR,
                              "the record sequence number would wrap; the connection must end "
                              "or update its keys"},
    [MICA_E_KEY_LIMIT] = {"key_limit", MICA_ALERT_INTERNAL_ERROR,
                          "a traffic key reached the number of records RFC 8446 section 5.5 "
                          "allows; a KeyUpdate is required"},
    [MICA_E_BAD_PEER_KEY] = {"bad_peer_key", MICA_ALERT_ILLEGAL_PARAMETER,
                             "the peer's key share is not a valid public key for its group"},
    [MICA_E_ZERO_SHARED] = {"zero_shared", MICA_ALERT_ILLEGAL_PARAMETER,
                            "the key exchange produced an all-zero shared secret (the peer "
                            "sent a low-order point)"},
    [MICA_E_CRYPTO] = {"crypto", MICA_ALERT_INTERNAL_ERROR,
                       "libcrypto failed an operation that should not fail"},
    [MICA_E_UNSUPPORTED] = {"unsupported", MICA_ALERT_HANDSHAKE_FAILURE,
                            "the algorithm is not supported by this build of mica or its "
                            "libcrypto"},
    [MICA_E_STAGE] = {"stage", MICA_ALERT_INTERNAL_ERROR,
                      "the key schedule was used out of the order RFC 8446 section 7.1 "
                      "defines; this is a bug in mica"},
    [MICA_E_DECRYPT_ERROR] = {"decrypt_error", MICA_ALERT_DECRYPT_ERROR,
                              "a handshake check failed: a signature, Finished value or PSK "
                              "binder did not verify"},
    [MICA_E_BAD_SIGNATURE] = {"bad_signature", MICA_ALERT_DECRYPT_ERROR,
                              "the signature does not verify under the given public key"},
    [MICA_E_KEY_MISMATCH] = {"key_mismatch", MICA_ALERT_INTERNAL_ERROR,
                             "the key does not fit the requested algorithm"},
    [MICA_E_PROTOCOL_VERSION] = {"protocol_version", MICA_ALERT_PROTOCOL_VERSION,
                                 "the peer offered no protocol version mica speaks "
                                 "(mica speaks TLS 1.3)"},
    [MICA_E_HANDSHAKE_FAILURE] = {"handshake_failure", MICA_ALERT_HANDSHAKE_FAILURE,
                                  "the two sides share no acceptable set of parameters"},
    [MICA_E_CLOSED] = {"closed", MICA_ALERT_NONE, "the connection is closed"},
    [MICA_E_LIMIT] = {"limit", MICA_ALERT_INTERNAL_ERROR, "a configured limit was exceeded"},
    [MICA_E_UNSUPPORTED_EXTENSION] = {"unsupported_extension", MICA_ALERT_UNSUPPORTED_EXTENSION,
                                      "the peer sent an extension in answer to one that was "
                                      "never offered"},
    [MICA_E_MISSING_EXTENSION] = {"missing_extension", MICA_ALERT_MISSING_EXTENSION,
                                  "the peer left out an extension TLS 1.3 requires"},
    [MICA_E_BAD_CERTIFICATE] = {"bad_certificate", MICA_ALERT_BAD_CERTIFICATE,
                                "a certificate is malformed or cannot be used"},
    [MICA_E_CERT_UNTRUSTED] = {"cert_untrusted", MICA_ALERT_UNKNOWN_CA,
                               "the certificate chain does not lead to a trusted root"},
    [MICA_E_CERT_EXPIRED] = {"cert_expired", MICA_ALERT_CERTIFICATE_EXPIRED,
                             "a certificate is expired or not yet valid"},
    [MICA_E_CERT_HOSTNAME] = {"cert_hostname", MICA_ALERT_BAD_CERTIFICATE,
                              "the certificate does not cover the server name"},
    [MICA_E_NO_APPLICATION_PROTOCOL] = {"no_application_protocol",
                                        MICA_ALERT_NO_APPLICATION_PROTOCOL,
                                        "the two sides share no application protocol (ALPN)"},
    [MICA_E_PEER_ALERT] = {"peer_alert", MICA_ALERT_NONE,
                           "the peer ended the connection with a fatal alert"},
    [MICA_E_IO] = {"io", MICA_ALERT_NONE, "a socket operation failed; the system error says which"},
    [MICA_E_CERTIFICATE_REQUIRED] = {"certificate_required", MICA_ALERT_CERTIFICATE_REQUIRED,
                                     "a certificate was required and the peer sent none"},
    [MICA_E_CERT_PIN] = {"cert_pin", MICA_ALERT_BAD_CERTIFICATE,
                         "no certificate of the chain matches a configured public key pin"},
    [MICA_E_CERT_REVOKED] = {"cert_revoked", MICA_ALERT_CERTIFICATE_REVOKED,
                             "a certificate of the chain has been revoked"},
    [MICA_E_CERT_WEAK] = {"cert_weak", MICA_ALERT_UNSUPPORTED_CERTIFICATE,
                          "a certificate uses a key or signature algorithm too weak to trust"},
    [MICA_E_CERT_PURPOSE] = {"cert_purpose", MICA_ALERT_UNSUPPORTED_CERTIFICATE,
                             "a certificate is not meant for this use (key usage or extended "
                             "key usage)"},
    [MICA_E_CERT_STATUS] = {"cert_status", MICA_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE,
                            "the certificate's revocation status is missing, stale or does not "
                            "verify"},
};

static const struct err_row *row(mica_err err)
{
    if (err < 0 || err >= MICA_E__COUNT || err_table[err].name == NULL) {
        return NULL;
    }
    return &err_table[err];
}

const char *mica_err_name(mica_err err)
{
    const struct err_row *r;

    switch (err) {
    case MICA_WANT_READ: return "want_read";
    case MICA_WANT_WRITE: return "want_write";
    default: r = row(err); return r != NULL ? r->name : "unknown";
    }
}

const char *mica_err_sentence(mica_err err)
{
    const struct err_row *r;

    switch (err) {
    case MICA_WANT_READ: return "the engine needs more input from the peer";
    case MICA_WANT_WRITE: return "the engine has output to send first";
    default: r = row(err); return r != NULL ? r->sentence : "unknown error code";
    }
}

mica_alert mica_err_alert(mica_err err)
{
    const struct err_row *r = row(err);

    return r != NULL ? r->alert : MICA_ALERT_INTERNAL_ERROR;
}

int mica_err_is_error(mica_err err)
{
    return err > MICA_OK;
}

mica_err mica_err_first(mica_err *sticky, mica_err err)
{
    /* only failures stick: OK and the WANT_* values are not failures */
    if (*sticky <= MICA_OK && err > MICA_OK) {
        *sticky = err;
    }
    return *sticky;
}

const char *mica_alert_name(mica_alert alert)
{
    switch (alert) {
    case MICA_ALERT_CLOSE_NOTIFY: return "close_notify";
    case MICA_ALERT_UNEXPECTED_MESSAGE: return "unexpected_message";
    case MICA_ALERT_BAD_RECORD_MAC: return "bad_record_mac";
    case MICA_ALERT_RECORD_OVERFLOW: return "record_overflow";
    case MICA_ALERT_HANDSHAKE_FAILURE: return "handshake_failure";
    case MICA_ALERT_BAD_CERTIFICATE: return "bad_certificate";
    case MICA_ALERT_UNSUPPORTED_CERTIFICATE: return "unsupported_certificate";
    case MICA_ALERT_CERTIFICATE_REVOKED: return "certificate_revoked";
    case MICA_ALERT_CERTIFICATE_EXPIRED: return "certificate_expired";
    case MICA_ALERT_CERTIFICATE_UNKNOWN: return "certificate_unknown";
    case MICA_ALERT_ILLEGAL_PARAMETER: return "illegal_parameter";
    case MICA_ALERT_UNKNOWN_CA: return "unknown_ca";
    case MICA_ALERT_ACCESS_DENIED: return "access_denied";
    case MICA_ALERT_DECODE_ERROR: return "decode_error";
    case MICA_ALERT_DECRYPT_ERROR: return "decrypt_error";
    case MICA_ALERT_PROTOCOL_VERSION: return "protocol_version";
    case MICA_ALERT_INSUFFICIENT_SECURITY: return "insufficient_security";
    case MICA_ALERT_INTERNAL_ERROR: return "internal_error";
    case MICA_ALERT_INAPPROPRIATE_FALLBACK: return "inappropriate_fallback";
    case MICA_ALERT_USER_CANCELED: return "user_canceled";
    case MICA_ALERT_MISSING_EXTENSION: return "missing_extension";
    case MICA_ALERT_UNSUPPORTED_EXTENSION: return "unsupported_extension";
    case MICA_ALERT_UNRECOGNIZED_NAME: return "unrecognized_name";
    case MICA_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE: return "bad_certificate_status_response";
    case MICA_ALERT_UNKNOWN_PSK_IDENTITY: return "unknown_psk_identity";
    case MICA_ALERT_CERTIFICATE_REQUIRED: return "certificate_required";
    case MICA_ALERT_NO_APPLICATION_PROTOCOL: return "no_application_protocol";
    case MICA_ALERT_NONE: return "none";
    default: return "unknown";
    }
}

const char *mica_version(void)
{
    return MICA_VERSION_STRING;
}

/*
 * The one error table (src/base/err.c, STYLE.md 2.3): every code has a unique name, a
 * sentence and the alert RFC 8446 section 6 prescribes; the first failure sticks; every
 * alert has its RFC name. docs/ERRORS.md is generated from the same table, so a hole
 * here is a hole in the documentation too.
 */
#include <string.h>

#include "base/err.h"
#include "check.h"

/* Every alert of RFC 8446 section 6 (and 8449/7301 as listed in mica.h) with its name. */
static const struct {
    mica_alert alert;
    int wire;
    const char *name;
} alerts[] = {
    {MICA_ALERT_CLOSE_NOTIFY, 0, "close_notify"},
    {MICA_ALERT_UNEXPECTED_MESSAGE, 10, "unexpected_message"},
    {MICA_ALERT_BAD_RECORD_MAC, 20, "bad_record_mac"},
    {MICA_ALERT_RECORD_OVERFLOW, 22, "record_overflow"},
    {MICA_ALERT_HANDSHAKE_FAILURE, 40, "handshake_failure"},
    {MICA_ALERT_BAD_CERTIFICATE, 42, "bad_certificate"},
    {MICA_ALERT_UNSUPPORTED_CERTIFICATE, 43, "unsupported_certificate"},
    {MICA_ALERT_CERTIFICATE_REVOKED, 44, "certificate_revoked"},
    {MICA_ALERT_CERTIFICATE_EXPIRED, 45, "certificate_expired"},
    {MICA_ALERT_CERTIFICATE_UNKNOWN, 46, "certificate_unknown"},
    {MICA_ALERT_ILLEGAL_PARAMETER, 47, "illegal_parameter"},
    {MICA_ALERT_UNKNOWN_CA, 48, "unknown_ca"},
    {MICA_ALERT_ACCESS_DENIED, 49, "access_denied"},
    {MICA_ALERT_DECODE_ERROR, 50, "decode_error"},
    {MICA_ALERT_DECRYPT_ERROR, 51, "decrypt_error"},
    {MICA_ALERT_PROTOCOL_VERSION, 70, "protocol_version"},
    {MICA_ALERT_INSUFFICIENT_SECURITY, 71, "insufficient_security"},
    {MICA_ALERT_INTERNAL_ERROR, 80, "internal_error"},
    {MICA_ALERT_INAPPROPRIATE_FALLBACK, 86, "inappropriate_fallback"},
    {MICA_ALERT_USER_CANCELED, 90, "user_canceled"},
    {MICA_ALERT_MISSING_EXTENSION, 109, "missing_extension"},
    {MICA_ALERT_UNSUPPORTED_EXTENSION, 110, "unsupported_extension"},
    {MICA_ALERT_UNRECOGNIZED_NAME, 112, "unrecognized_name"},
    {MICA_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE, 113, "bad_certificate_status_response"},
    {MICA_ALERT_UNKNOWN_PSK_IDENTITY, 115, "unknown_psk_identity"},
    {MICA_ALERT_CERTIFICATE_REQUIRED, 116, "certificate_required"},
    {MICA_ALERT_NO_APPLICATION_PROTOCOL, 120, "no_application_protocol"},
};

/* Codes for which ending the connection sends no alert at all: the connection is already
 * closed, or the peer closed it with a fatal alert (RFC 8446 6.2: after a fatal alert both
 * sides close at once; nothing is sent back). */
static bool no_alert_expected(mica_err e)
{
    /* nothing can be sent: the connection is closed, the peer ended it, or the socket failed */
    return e == MICA_E_CLOSED || e == MICA_E_PEER_ALERT || e == MICA_E_IO;
}

/* is_real_alert: one of the wire alerts above (not NONE, not a made-up value) */
static bool is_real_alert(mica_alert a)
{
    for (size_t i = 0; i < MICA_ARRAY_LEN(alerts); i++) {
        if (alerts[i].alert == a) {
            return true;
        }
    }
    return false;
}

static bool is_identifier(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) {
            return false;
        }
    }
    return true;
}

static void test_every_code(void)
{
    for (int i = 1; i < MICA_E__COUNT; i++) {
        mica_err e = (mica_err)i;
        const char *name = mica_err_name(e);
        const char *sentence = mica_err_sentence(e);
        mica_alert alert = mica_err_alert(e);

        CHECK_MSG(name != NULL && sentence != NULL, "code %d: NULL name or sentence", i);
        if (name == NULL || sentence == NULL) {
            continue;
        }
        CHECK_MSG(strcmp(name, "unknown") != 0, "code %d has no name", i);
        CHECK_MSG(is_identifier(name), "code %d: name '%s' is not a lower-case identifier", i,
                  name);
        CHECK_MSG(strcmp(sentence, "unknown error code") != 0, "code %d (%s) has no sentence", i,
                  name);
        /* a sentence: some words on one line (it is printed inside a table and a log line) */
        CHECK_MSG(strlen(sentence) >= 10 && strchr(sentence, ' ') != NULL,
                  "code %d (%s): '%s' is not a sentence", i, name, sentence);
        CHECK_MSG(strchr(sentence, '\n') == NULL && strchr(sentence, '|') == NULL,
                  "code %d (%s): sentence must be one line without '|'", i, name);
        if (no_alert_expected(e)) {
            CHECK_MSG(alert == MICA_ALERT_NONE, "code %d (%s): want no alert, got %s", i, name,
                      mica_alert_name(alert));
        } else {
            CHECK_MSG(is_real_alert(alert), "code %d (%s): alert %d is not a TLS alert", i, name,
                      (int)alert);
        }
        /* close_notify is a closure alert; it never reports an error */
        CHECK_MSG(alert != MICA_ALERT_CLOSE_NOTIFY, "code %d (%s) maps to close_notify", i, name);
        CHECK(mica_err_is_error(e));
    }
}

/* Where an error is named after an alert, it must send that alert: a "decode" code that
 * sent anything but decode_error would contradict RFC 8446 section 6.2. */
static void test_named_alerts(void)
{
    static const struct {
        mica_err err;
        mica_alert alert;
    } want[] = {
        {MICA_E_DECODE, MICA_ALERT_DECODE_ERROR},
        {MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER},
        {MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE},
        {MICA_E_BAD_RECORD_MAC, MICA_ALERT_BAD_RECORD_MAC},
        {MICA_E_RECORD_OVERFLOW, MICA_ALERT_RECORD_OVERFLOW},
        {MICA_E_DECRYPT_ERROR, MICA_ALERT_DECRYPT_ERROR},
        {MICA_E_PROTOCOL_VERSION, MICA_ALERT_PROTOCOL_VERSION},
        {MICA_E_HANDSHAKE_FAILURE, MICA_ALERT_HANDSHAKE_FAILURE},
        {MICA_E_INTERNAL, MICA_ALERT_INTERNAL_ERROR},
        /* RFC 8446 5.4: "does not find a non-zero octet in the cleartext, it MUST terminate
         * the connection with an unexpected_message alert" */
        {MICA_E_EMPTY_INNER, MICA_ALERT_UNEXPECTED_MESSAGE},
    };

    for (size_t i = 0; i < MICA_ARRAY_LEN(want); i++) {
        CHECK_MSG(mica_err_alert(want[i].err) == want[i].alert, "%s: alert %s, want %s",
                  mica_err_name(want[i].err), mica_alert_name(mica_err_alert(want[i].err)),
                  mica_alert_name(want[i].alert));
    }
    /* generic form: a code whose name is an alert's name maps to that alert */
    for (int i = 1; i < MICA_E__COUNT; i++) {
        for (size_t a = 0; a < MICA_ARRAY_LEN(alerts); a++) {
            if (strcmp(mica_err_name((mica_err)i), alerts[a].name) == 0) {
                CHECK_MSG(mica_err_alert((mica_err)i) == alerts[a].alert,
                          "code %s does not send the alert of the same name", alerts[a].name);
            }
        }
    }
}

static void test_names_unique(void)
{
    for (int i = MICA_WANT_WRITE; i < MICA_E__COUNT; i++) {
        for (int j = i + 1; j < MICA_E__COUNT; j++) {
            const char *a = mica_err_name((mica_err)i), *b = mica_err_name((mica_err)j);
            if (strcmp(a, "unknown") == 0) {
                continue; /* -1 is not a code */
            }
            CHECK_MSG(strcmp(a, b) != 0, "codes %d and %d share the name '%s'", i, j, a);
            CHECK_MSG(strcmp(mica_err_sentence((mica_err)i), mica_err_sentence((mica_err)j)) != 0,
                      "codes %d and %d share a sentence", i, j);
        }
    }
}

static void test_non_errors(void)
{
    CHECK(strcmp(mica_err_name(MICA_OK), "ok") == 0);
    CHECK(strcmp(mica_err_name(MICA_WANT_READ), "want_read") == 0);
    CHECK(strcmp(mica_err_name(MICA_WANT_WRITE), "want_write") == 0);
    CHECK(strcmp(mica_err_sentence(MICA_WANT_READ), "unknown error code") != 0);
    CHECK(strcmp(mica_err_sentence(MICA_WANT_WRITE), "unknown error code") != 0);
    CHECK(strcmp(mica_err_sentence(MICA_WANT_READ), mica_err_sentence(MICA_WANT_WRITE)) != 0);
    CHECK(mica_err_alert(MICA_OK) == MICA_ALERT_NONE);
    CHECK(!mica_err_is_error(MICA_OK));
    CHECK(!mica_err_is_error(MICA_WANT_READ));
    CHECK(!mica_err_is_error(MICA_WANT_WRITE));
    CHECK(MICA_WANT_READ < 0 && MICA_WANT_WRITE < 0); /* outside the error range (libtls) */

    /* values that are no code at all */
    CHECK(strcmp(mica_err_name((mica_err)-1), "unknown") == 0);
    CHECK(strcmp(mica_err_name((mica_err)-4), "unknown") == 0);
    CHECK(strcmp(mica_err_name(MICA_E__COUNT), "unknown") == 0);
    CHECK(strcmp(mica_err_name((mica_err)1000), "unknown") == 0);
    CHECK(strcmp(mica_err_sentence(MICA_E__COUNT), "unknown error code") == 0);
    CHECK(strcmp(mica_err_sentence((mica_err)-1), "unknown error code") == 0);
}

/*
 * mica_err_first: the first error stored sticks; later ones are ignored, and so is
 * MICA_OK (storing success must not clear a failure). MICA_WANT_READ/WRITE are "not
 * failures" (mica.h), so they must not occupy the slot either: a connection that once
 * waited for input must still be able to record the real failure that follows.
 */
static void test_first_sticks(void)
{
    mica_err sticky = MICA_OK;

    CHECK_ERR(mica_err_first(&sticky, MICA_OK), MICA_OK);
    CHECK(sticky == MICA_OK);
    CHECK_ERR(mica_err_first(&sticky, MICA_E_DECODE), MICA_E_DECODE);
    CHECK_ERR(mica_err_first(&sticky, MICA_E_INTERNAL), MICA_E_DECODE);
    CHECK_ERR(mica_err_first(&sticky, MICA_OK), MICA_E_DECODE);
    CHECK_ERR(mica_err_first(&sticky, MICA_E_BAD_RECORD_MAC), MICA_E_DECODE);
    CHECK(sticky == MICA_E_DECODE);

    for (int first = 1; first < MICA_E__COUNT; first++) {
        sticky = MICA_OK;
        CHECK(mica_err_first(&sticky, (mica_err)first) == (mica_err)first);
        for (int later = 1; later < MICA_E__COUNT; later++) {
            CHECK(mica_err_first(&sticky, (mica_err)later) == (mica_err)first);
        }
        CHECK(sticky == (mica_err)first);
    }

    sticky = MICA_OK;
    (void)mica_err_first(&sticky, MICA_WANT_READ);
    (void)mica_err_first(&sticky, MICA_WANT_WRITE);
    CHECK_ERR(mica_err_first(&sticky, MICA_E_BAD_RECORD_MAC), MICA_E_BAD_RECORD_MAC);
    CHECK_MSG(sticky == MICA_E_BAD_RECORD_MAC,
              "mica_err_first stored a WANT_* value; got %s after a real error",
              mica_err_name(sticky));
}

static void test_alert_names(void)
{
    for (size_t i = 0; i < MICA_ARRAY_LEN(alerts); i++) {
        CHECK_MSG((int)alerts[i].alert == alerts[i].wire, "%s has wire value %d", alerts[i].name,
                  (int)alerts[i].alert);
        CHECK_MSG(strcmp(mica_alert_name(alerts[i].alert), alerts[i].name) == 0,
                  "alert %d: name '%s', want '%s'", alerts[i].wire,
                  mica_alert_name(alerts[i].alert), alerts[i].name);
    }
    CHECK(strcmp(mica_alert_name(MICA_ALERT_NONE), "none") == 0);
    /* every other byte value is no alert mica knows */
    for (int v = 0; v < 256; v++) {
        bool known = v == MICA_ALERT_NONE;
        for (size_t i = 0; i < MICA_ARRAY_LEN(alerts); i++) {
            known = known || alerts[i].wire == v;
        }
        if (!known) {
            CHECK_MSG(strcmp(mica_alert_name((mica_alert)v), "unknown") == 0, "alert %d has a name",
                      v);
        }
    }
    CHECK(strcmp(mica_alert_name((mica_alert)256), "unknown") == 0);
    CHECK(strcmp(mica_alert_name((mica_alert)-1), "unknown") == 0);
}

static void test_version(void)
{
    CHECK(strcmp(mica_version(), MICA_VERSION_STRING) == 0);
}

int main(void)
{
    test_every_code();
    test_named_alerts();
    test_names_unique();
    test_non_errors();
    test_first_sticks();
    test_alert_names();
    test_version();
    return check_exit("test_err");
}

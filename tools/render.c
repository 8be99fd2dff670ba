/* Rendering trace events: narration, JSON Lines, the JSON connection report. */
#include "render.h"

#include <string.h>

#include <mica/cert.h>

void json_string(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            fprintf(f, "\\%c", ch);
        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(f, "\\u%04x", ch);
        } else {
            fputc(ch, f);
        }
    }
    fputc('"', f);
}

static const char *field(const struct mica_trace_event *ev, const char *name)
{
    for (size_t i = 0; i < ev->fields_n; i++) {
        if (strcmp(ev->fields[i].name, name) == 0) {
            return ev->fields[i].value;
        }
    }
    return NULL;
}

static const char *const kind_names[] = {"?",     "message", "secret", "keys", "cert",
                                         "alert", "state",   "flight", "early"};

static void jsonl(FILE *f, const mica_conn *c, const struct mica_trace_event *ev)
{
    fprintf(f,
            "{\"v\":%d,\"side\":\"%s\",\"kind\":\"%s\",\"sent\":%s,\"name\":", MICA_TRACE_VERSION,
            mica_conn_is_server(c) ? "server" : "client", kind_names[ev->kind],
            ev->sent ? "true" : "false");
    json_string(f, ev->name);
    fprintf(f, ",\"length\":%zu,\"protection\":", ev->length);
    json_string(f, ev->protection);
    fprintf(f, ",\"elapsed_us\":%llu,\"fields\":{", (unsigned long long)ev->elapsed_us);
    for (size_t i = 0; i < ev->fields_n; i++) {
        if (i > 0) {
            fputc(',', f);
        }
        json_string(f, ev->fields[i].name);
        fputc(':', f);
        json_string(f, ev->fields[i].value);
    }
    fputs("}}\n", f);
    fflush(f);
}

/* what a message means, for a learner */
/* the narration speaks from the side that traced: author is the side that sent the
 * message (sent by us, or received from the peer); resumed: the connection resumes a
 * session (known on both sides from EncryptedExtensions on: a client learns it while
 * handling the ServerHello, after that message is traced) */
static void narrate_message(FILE *f, const struct mica_trace_event *ev, bool server_side,
                            bool resumed)
{
    bool by_server = ev->sent ? server_side : !server_side;
    const char *arrow = ev->sent ? "->" : "<-";
    const char *n = ev->name, *v;

    fprintf(f, "%s %s (%zu bytes, %s)", arrow, n, ev->length, ev->protection);
    if (strcmp(n, "ClientHello") == 0) {
        fprintf(f, ": offers TLS 1.3 (supported_versions) with the suites %s",
                (v = field(ev, "cipher_suites")) != NULL ? v : "?");
        if ((v = field(ev, "key_share")) != NULL) {
            fprintf(f, ", and key shares %s, guessing which groups the server takes", v);
        }
        if ((v = field(ev, "server_name")) != NULL) {
            fprintf(f, ", for the name %s", v);
        }
        if ((v = field(ev, "pre_shared_key")) != NULL) {
            fprintf(f,
                    ", and offers to resume an earlier session with a ticket the server "
                    "issued (pre_shared_key, %s)",
                    v);
        }
        fputs(". Sent in the clear: nothing is secret yet.\n", f);
    } else if (strcmp(n, "HelloRetryRequest") == 0) {
        fprintf(f,
                ": the server supports none of the groups we sent shares for and asks for "
                "%s instead. One more round trip: the client sends a new ClientHello.\n",
                (v = field(ev, "key_share")) != NULL ? v : "another group");
    } else if (strcmp(n, "ServerHello") == 0) {
        const char *ks = field(ev, "key_share");
        char group[64] = "?";
        if (ks != NULL) {
            snprintf(group, sizeof group, "%.*s", (int)strcspn(ks, " "), ks);
        }
        fprintf(f,
                " -- server chose %s and %s. Both sides now compute the same shared "
                "secret and derive the handshake keys; everything from here on is "
                "encrypted.\n",
                (v = field(ev, "cipher_suite")) != NULL ? v : "?", group);
    } else if (strcmp(n, "EncryptedExtensions") == 0) {
        fputs(": the rest of the server's answers, now hidden from observers", f);
        for (size_t i = 0; i < ev->fields_n; i++) {
            fprintf(f, "%s %s=%s", i == 0 ? ":" : ",", ev->fields[i].name, ev->fields[i].value);
        }
        fputs(".\n", f);
        if (resumed) {
            fputs("   the server accepted the ticket: this handshake resumes an earlier "
                  "session, so no Certificate or CertificateVerify follows; the shared "
                  "PSK authenticates the server, and the fresh key exchange keeps forward "
                  "secrecy.\n",
                  f);
        }
    } else if (strcmp(n, "Certificate") == 0) {
        fprintf(f, ": %s certificate(s), the %s's identity and its chain to a CA.\n",
                (v = field(ev, "certificates")) != NULL ? v : "?", by_server ? "server" : "client");
    } else if (strcmp(n, "CertificateVerify") == 0) {
        fprintf(f,
                ": a signature (%s) over the handshake so far, proving the %s holds the "
                "certificate's private key.\n",
                (v = field(ev, "algorithm")) != NULL ? v : "?", by_server ? "server" : "client");
    } else if (strcmp(n, "Finished") == 0) {
        fprintf(f, ": a MAC over the whole handshake with the %s handshake key; %s\n",
                by_server ? "server's" : "client's",
                ev->sent ? "the server checks it the same way."
                         : "it matches, so nobody "
                           "altered a message.");
    } else if (strcmp(n, "KeyUpdate") == 0) {
        fprintf(f, ": %s (%s).\n",
                ev->sent ? "our new traffic keys from here" : "the peer's new keys",
                (v = field(ev, "request_update")) != NULL ? v : "?");
    } else if (strcmp(n, "NewSessionTicket") == 0) {
        fprintf(f, ": a ticket to resume later (lifetime %s%s%s).\n",
                (v = field(ev, "ticket_lifetime")) != NULL ? v : "?",
                field(ev, "max_early_data_size") != NULL ? "; 0-RTT early data allowed, bytes: "
                                                         : "",
                field(ev, "max_early_data_size") != NULL ? field(ev, "max_early_data_size") : "");
    } else if (strcmp(n, "EndOfEarlyData") == 0) {
        fputs(": the end of the 0-RTT early data; the client's next records use the "
              "handshake key.\n",
              f);
    } else {
        fputc('\n', f);
    }
}

static void narrate(struct render *r, FILE *f, const mica_conn *c,
                    const struct mica_trace_event *ev)
{
    const char *v;
    bool server_side = mica_conn_is_server(c) != 0;

    switch (ev->kind) {
    case MICA_TRACE_MESSAGE: narrate_message(f, ev, server_side, mica_conn_resumed(c) != 0); break;
    case MICA_TRACE_SECRET:
        fprintf(f, "   derived \"%s\" (the secret itself goes only to a key log)\n", ev->name);
        break;
    case MICA_TRACE_KEYS:
        fprintf(f, "   %s now use %s\n", ev->sent ? "records we send" : "records we receive",
                ev->protection);
        break;
    case MICA_TRACE_CERT:
        if (strcmp(ev->name, "verified") == 0) {
            fprintf(f,
                    "   certificate check: the chain leads to a trusted root, every "
                    "certificate is valid now, and it covers %s\n",
                    (v = field(ev, "name")) != NULL ? v : "the name");
        } else {
            fprintf(f, "   certificate check: %s: %s\n", ev->name,
                    (v = field(ev, "reason")) != NULL ? v : "");
        }
        break;
    case MICA_TRACE_ALERT:
        fprintf(f, "%s alert %s (%s)%s%s\n", ev->sent ? "->" : "<-", ev->name,
                (v = field(ev, "level")) != NULL ? v : "?", field(ev, "cause") != NULL ? ": " : "",
                field(ev, "cause") != NULL ? field(ev, "cause") : "");
        break;
    case MICA_TRACE_STATE:
        if (strcmp(ev->name, "CONNECTED") == 0) {
            fprintf(f, "   connected after %.1f ms%s\n", (double)ev->elapsed_us / 1000.0,
                    mica_conn_resumed(c) ? ", resuming an earlier session (no certificate)" : "");
        }
        break;
    case MICA_TRACE_FLIGHT:
        fprintf(f, "   [flight %zu sent: %s, %zu bytes, %s]\n", r->flights_n,
                (v = field(ev, "messages")) != NULL ? v : "", ev->length, ev->protection);
        break;
    case MICA_TRACE_EARLY:
        if (strcmp(ev->name, "offered") == 0) {
            fprintf(f,
                    "   0-RTT: the session allows early data (up to %zu bytes): it goes now, "
                    "right behind the ClientHello, under the early key derived from the "
                    "session's PSK -- before the server has said anything. An attacker who "
                    "records it can replay it.\n",
                    ev->length);
        } else if (strcmp(ev->name, "accepted") == 0) {
            fprintf(f, "   0-RTT: %s\n",
                    server_side ? "early data accepted: the request can be answered now, a "
                                  "round trip early (but it may be a replay)"
                                : "the server accepted our early data: it did not cost a round "
                                  "trip");
        } else if (strcmp(ev->name, "rejected") == 0) {
            fprintf(f, "   0-RTT: early data rejected (%s); %s\n",
                    (v = field(ev, "reason")) != NULL ? v : "?",
                    server_side ? "its records are skipped and the handshake goes on in 1-RTT"
                                : "nothing of it was delivered; it must be sent again");
        } else if (strcmp(ev->name, "skipped") == 0) {
            fprintf(f, "   0-RTT: skipped %zu bytes of rejected early data\n", ev->length);
        }
        break;
    default: break;
    }
    fflush(f);
}

void render_event(void *ctx, const mica_conn *c, const struct mica_trace_event *ev)
{
    struct render *r = ctx;

    if (ev->kind == MICA_TRACE_MESSAGE) {
        if (r->msgs_n < RENDER_MAX_MESSAGES) {
            struct render_msg *m = &r->msgs[r->msgs_n++];
            m->sent = ev->sent != 0;
            snprintf(m->name, sizeof m->name, "%s", ev->name);
            snprintf(m->protection, sizeof m->protection, "%s", ev->protection);
            m->length = ev->length;
            m->at_us = ev->elapsed_us;
        }
        if (ev->sent) {
            r->bytes_sent += ev->length;
        } else {
            r->bytes_received += ev->length;
        }
        /* a round trip ends with each ServerHello or HelloRetryRequest (received by a
         * client, sent by a server) */
        if ((ev->sent != 0) == (mica_conn_is_server(c) != 0) &&
            (strcmp(ev->name, "ServerHello") == 0 || strcmp(ev->name, "HelloRetryRequest") == 0)) {
            r->round_trips++;
        }
    } else if (ev->kind == MICA_TRACE_STATE && strcmp(ev->name, "CONNECTED") == 0) {
        r->connected_us = ev->elapsed_us;
    } else if (ev->kind == MICA_TRACE_FLIGHT && r->flights_n < 8) {
        const char *v = field(ev, "messages");
        snprintf(r->flights[r->flights_n++], sizeof r->flights[0], "%s (%zu bytes)",
                 v != NULL ? v : "", ev->length);
    }
    if (r->jsonl != NULL) {
        jsonl(r->jsonl, c, ev);
    }
    if (r->narrate != NULL) {
        narrate(r, r->narrate, c, ev);
    }
}

void render_summary(const struct render *r, FILE *f)
{
    fprintf(f,
            "summary: %d round trip%s before the client could send data, %.1f ms; "
            "handshake bytes %zu sent, %zu received\n",
            r->round_trips, r->round_trips == 1 ? "" : "s", (double)r->connected_us / 1000.0,
            r->bytes_sent, r->bytes_received);
    for (size_t i = 0; i < r->flights_n; i++) {
        fprintf(f, "  our flight %zu: %s\n", i + 1, r->flights[i]);
    }
    for (size_t i = 0; i < r->msgs_n; i++) {
        fprintf(f, "  %8.3f ms  %s %s\n", (double)r->msgs[i].at_us / 1000.0,
                r->msgs[i].sent ? "->" : "<-", r->msgs[i].name);
    }
}

static void cert_json(FILE *f, const uint8_t *der, size_t len)
{
    struct mica_cert_info ci;
    const char *s, *e;
    bool first = true;

    if (mica_cert_describe(der, len, &ci) != MICA_OK) {
        fputs("{\"error\":\"does not parse\"}", f);
        return;
    }
    fputs("{\"subject\":", f);
    json_string(f, ci.subject);
    fputs(",\"issuer\":", f);
    json_string(f, ci.issuer);
    fputs(",\"sans\":[", f);
    for (s = ci.sans; *s != '\0'; s = *e != '\0' ? e + 2 : e) {
        char one[300];
        e = strstr(s, ", ");
        if (e == NULL) {
            e = s + strlen(s);
        }
        snprintf(one, sizeof one, "%.*s", (int)(e - s), s);
        fputs(first ? "" : ",", f);
        json_string(f, one);
        first = false;
    }
    fputs("],\"not_before\":", f);
    json_string(f, ci.not_before);
    fputs(",\"not_after\":", f);
    json_string(f, ci.not_after);
    fputs(",\"key\":", f);
    json_string(f, ci.key);
    fputs(",\"signature_algorithm\":", f);
    json_string(f, ci.signature_algorithm);
    fputs(",\"sha256\":", f);
    json_string(f, ci.sha256);
    fputs(",\"spki_pin\":", f);
    json_string(f, ci.spki_pin);
    fputc('}', f);
}

void render_report(const struct render *r, const mica_conn *c, FILE *f)
{
    size_t len;
    const uint8_t *der;

    fputs("{\n  \"version\": ", f);
    json_string(f, mica_conn_version(c));
    fputs(",\n  \"cipher\": ", f);
    json_string(f, mica_conn_cipher_suite(c));
    fputs(",\n  \"group\": ", f);
    json_string(f, mica_conn_group(c));
    fputs(",\n  \"signature_scheme\": ", f);
    json_string(f, mica_conn_sig_scheme(c));
    fputs(",\n  \"alpn\": ", f);
    json_string(f, mica_conn_alpn(c));
    fputs(",\n  \"sni\": ", f);
    json_string(f, mica_conn_server_name(c));
    fprintf(f, ",\n  \"verified\": %s", mica_conn_verified(c) ? "true" : "false");
    fputs(",\n  \"verify_error\": ", f);
    json_string(f, mica_conn_verify_error(c));
    /* a resumed handshake has no certificate: peer_certificates is then empty, and
     * verified tells whether the session's original handshake verified the chain */
    fprintf(f, ",\n  \"resumed\": %s", mica_conn_resumed(c) ? "true" : "false");
    fprintf(f, ",\n  \"early_data\": \"%s\"", mica_early_name(mica_conn_early_data(c)));
    fprintf(f, ",\n  \"hrr\": %s", mica_conn_hrr(c) ? "true" : "false");
    fputs(",\n  \"peer_certificates\": [", f);
    for (size_t i = 0; (der = mica_conn_peer_cert(c, i, &len)) != NULL; i++) {
        fputs(i == 0 ? "\n    " : ",\n    ", f);
        cert_json(f, der, len);
    }
    fputs("\n  ],\n  \"handshake\": {", f);
    fprintf(f, "\n    \"round_trips\": %d,\n    \"duration_ms\": %.3f,", r->round_trips,
            (double)r->connected_us / 1000.0);
    fprintf(f, "\n    \"bytes_sent\": %zu,\n    \"bytes_received\": %zu,\n    \"messages\": [",
            r->bytes_sent, r->bytes_received);
    for (size_t i = 0; i < r->msgs_n; i++) {
        fprintf(f, "%s\n      {\"direction\": \"%s\", \"type\": ", i == 0 ? "" : ",",
                r->msgs[i].sent ? "sent" : "received");
        json_string(f, r->msgs[i].name);
        fprintf(f, ", \"length\": %zu, \"protection\": ", r->msgs[i].length);
        json_string(f, r->msgs[i].protection);
        fprintf(f, ", \"at_ms\": %.3f}", (double)r->msgs[i].at_us / 1000.0);
    }
    fputs("\n    ]\n  }\n}\n", f);
}

/* ---- sequence diagrams ------------------------------------------------------------ */

static const char *color_of(const char *protection)
{
    if (strcmp(protection, "plaintext") == 0) {
        return "#6b7280"; /* grey: readable by anyone on the path */
    }
    if (strcmp(protection, "handshake keys") == 0) {
        return "#b45309"; /* amber, dark enough for small text on white */
    }
    if (strcmp(protection, "early keys") == 0) {
        return "#7c3aed";
    }
    return "#047857"; /* green: application keys */
}

/* the round trip a message belongs to: each ServerHello or HelloRetryRequest received
 * closes one */
static int round_of(const struct render *r, size_t i)
{
    int rt = 1;

    for (size_t k = 0; k < i; k++) {
        if (!r->msgs[k].sent && (strcmp(r->msgs[k].name, "ServerHello") == 0 ||
                                 strcmp(r->msgs[k].name, "HelloRetryRequest") == 0)) {
            rt++;
        }
    }
    return rt;
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f); break;
        }
    }
}

static void mermaid(const struct render *r, const char *peer, FILE *f)
{
    const char *prot = "";
    int rt = 0;

    fputs("sequenceDiagram\n    participant C as mica client\n", f);
    fprintf(f, "    participant S as %s\n", peer);
    for (size_t i = 0; i < r->msgs_n; i++) {
        const struct render_msg *m = &r->msgs[i];
        if (round_of(r, i) != rt && m->sent && strcmp(m->name, "ClientHello") == 0) {
            rt = round_of(r, i);
            fprintf(f, "    Note over C,S: round trip %d\n", rt);
        }
        if (strcmp(prot, m->protection) != 0) {
            prot = m->protection;
            fprintf(f, "    Note %s %s: from here: %s\n", m->sent ? "right of" : "left of",
                    m->sent ? "C" : "S", prot);
        }
        fprintf(f, "    %s->>%s: %s (%zu bytes, %.1f ms)\n", m->sent ? "C" : "S",
                m->sent ? "S" : "C", m->name, m->length, (double)m->at_us / 1000.0);
    }
    fprintf(f, "    Note over C,S: connected after %d round trip%s, %.1f ms\n", r->round_trips,
            r->round_trips == 1 ? "" : "s", (double)r->connected_us / 1000.0);
}

static void svg(const struct render *r, const char *peer, FILE *f)
{
    const int width = 760, left = 170, right = 590, top = 90, step = 44;
    int height = top + (int)r->msgs_n * step + 76, rt = 0;

    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
            "font-size=\"13\">\n",
            width, height, width, height);
    fputs("<title>TLS 1.3 handshake observed by mica</title>\n", f);
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height);
    fputs("<defs>", f);
    for (int k = 0; k < 4; k++) {
        static const char *const prots[] = {"plaintext", "early keys", "handshake keys",
                                            "application keys"};
        fprintf(f,
                "<marker id=\"a%d\" markerWidth=\"10\" markerHeight=\"8\" refX=\"10\" "
                "refY=\"4\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path "
                "d=\"M0,0 L10,4 L0,8 z\" fill=\"%s\"/></marker>",
                k, color_of(prots[k]));
    }
    fputs("</defs>\n", f);
    /* the two sides and their lifelines */
    fprintf(
        f,
        "<text x=\"%d\" y=\"30\" text-anchor=\"middle\" font-weight=\"bold\">mica client</text>\n",
        left);
    fprintf(f, "<text x=\"%d\" y=\"30\" text-anchor=\"middle\" font-weight=\"bold\">", right);
    xml_text(f, peer);
    fputs("</text>\n", f);
    fprintf(
        f,
        "<line x1=\"%d\" y1=\"45\" x2=\"%d\" y2=\"%d\" stroke=\"#111827\" stroke-width=\"2\"/>\n",
        left, left, height - 70);
    fprintf(
        f,
        "<line x1=\"%d\" y1=\"45\" x2=\"%d\" y2=\"%d\" stroke=\"#111827\" stroke-width=\"2\"/>\n",
        right, right, height - 70);
    for (size_t i = 0; i < r->msgs_n; i++) {
        const struct render_msg *m = &r->msgs[i];
        int y = top + (int)i * step;
        int x1 = m->sent ? left : right, x2 = m->sent ? right - 4 : left + 4;
        int mk = strcmp(m->protection, "plaintext") == 0        ? 0
                 : strcmp(m->protection, "early keys") == 0     ? 1
                 : strcmp(m->protection, "handshake keys") == 0 ? 2
                                                                : 3;
        if (round_of(r, i) != rt && m->sent && strcmp(m->name, "ClientHello") == 0) {
            rt = round_of(r, i);
            fprintf(f, "<text x=\"12\" y=\"%d\" fill=\"#374151\">round trip %d</text>\n", y + 4,
                    rt);
            fprintf(f,
                    "<line x1=\"10\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#d1d5db\" "
                    "stroke-dasharray=\"4 4\"/>\n",
                    y - 22, width - 10, y - 22);
        }
        fprintf(f,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2.5\" "
                "marker-end=\"url(#a%d)\"/>\n",
                x1, y, x2, y, color_of(m->protection), mk);
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">",
                (left + right) / 2, y - 7, color_of(m->protection));
        xml_text(f, m->name);
        fprintf(f, " (%zu bytes, ", m->length);
        xml_text(f, m->protection);
        fputs(")</text>\n", f);
        fprintf(f,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#6b7280\" font-size=\"11\">"
                "%.1f ms</text>\n",
                left - 10, y + 4, (double)m->at_us / 1000.0);
    }
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">connected after "
            "%d round trip%s, %.1f ms</text>\n",
            (left + right) / 2, height - 45, r->round_trips, r->round_trips == 1 ? "" : "s",
            (double)r->connected_us / 1000.0);
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">"
            "<tspan fill=\"%s\">plaintext</tspan> · <tspan fill=\"%s\">early keys (0-RTT)</tspan> "
            "· <tspan fill=\"%s\">handshake keys</tspan> · <tspan fill=\"%s\">application "
            "keys</tspan> · times since the connection began</text>\n",
            (left + right) / 2, height - 20, color_of("plaintext"), color_of("early keys"),
            color_of("handshake keys"), color_of("application keys"));
    fputs("</svg>\n", f);
}

void render_diagram(const struct render *r, const char *peer, bool as_svg, FILE *f)
{
    if (as_svg) {
        svg(r, peer, f);
    } else {
        mermaid(r, peer, f);
    }
}

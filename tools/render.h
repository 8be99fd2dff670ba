/*
 * Rendering trace events (include/mica/trace.h) for people and programs: a narration for
 * a learner (--trace), JSON Lines of the raw events (--trace-json) and the connection
 * report as one JSON document (--json). Only public headers are used.
 */
#ifndef MICA_TOOLS_RENDER_H
#define MICA_TOOLS_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <mica/trace.h>

#define RENDER_MAX_MESSAGES 64

struct render_msg {
    bool sent;
    char name[32];
    size_t length;
    char protection[32];
    uint64_t at_us;
};

struct render {
    FILE *narrate; /* --trace: NULL when off */
    FILE *jsonl;   /* --trace-json: NULL when off */
    /* collected for the report and the summary */
    struct render_msg msgs[RENDER_MAX_MESSAGES];
    size_t msgs_n;
    int round_trips;   /* ServerHello and HelloRetryRequest received */
    size_t bytes_sent; /* handshake message bytes, both ways */
    size_t bytes_received;
    uint64_t connected_us; /* 0 until CONNECTED */
    char flights[8][160];  /* "ClientHello (1787 bytes)" per flight sent */
    size_t flights_n;
};

/* render_event: the trace callback; ctx is a struct render. */
void render_event(void *ctx, const mica_conn *c, const struct mica_trace_event *ev);

/* render_summary: the narration's last lines (round trips, flights, timing). */
void render_summary(const struct render *r, FILE *f);

/* render_report: the connection report (docs/trace.md, "Connection report"). */
void render_report(const struct render *r, const mica_conn *c, FILE *f);

/* json_string: s as a JSON string literal (NULL as null). */
void json_string(FILE *f, const char *s);

/* render_diagram: the observed handshake as a sequence diagram, Mermaid (svg = false)
 * or a self-contained SVG (svg = true); peer names the server's side. */
void render_diagram(const struct render *r, const char *peer, bool svg, FILE *f);

#endif

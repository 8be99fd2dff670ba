/*
 * The handshake message header (RFC 8446 4): msg_type(1) length(3), its writer, and the
 * names of the message types for traces and errors.
 */
#include "base/limits.h"
#include "tls/msg.h"

const char *mica_hs_type_name(uint8_t type)
{
    switch (type) {
    case MICA_HS_CLIENT_HELLO: return "ClientHello";
    case MICA_HS_SERVER_HELLO: return "ServerHello";
    case MICA_HS_NEW_SESSION_TICKET: return "NewSessionTicket";
    case MICA_HS_END_OF_EARLY_DATA: return "EndOfEarlyData";
    case MICA_HS_ENCRYPTED_EXTENSIONS: return "EncryptedExtensions";
    case MICA_HS_CERTIFICATE: return "Certificate";
    case MICA_HS_CERTIFICATE_REQUEST: return "CertificateRequest";
    case MICA_HS_CERTIFICATE_VERIFY: return "CertificateVerify";
    case MICA_HS_FINISHED: return "Finished";
    case MICA_HS_KEY_UPDATE: return "KeyUpdate";
    case MICA_HS_MESSAGE_HASH: return "message_hash";
    default: return "unknown";
    }
}

mica_err mica_msg_header(const uint8_t *p, size_t avail, struct mica_hs_header *h)
{
    mica_rd r = mica_rd_init(p, avail);
    uint8_t type;
    uint32_t len;

    /* struct { HandshakeType msg_type; uint24 length; ... } Handshake; */
    ENSURE(avail >= MICA_HANDSHAKE_HEADER_LEN, MICA_WANT_READ);
    TRY(mica_rd_u8(&r, &type));
    TRY(mica_rd_u24(&r, &len));
    h->type = type;
    h->len = len;
    return MICA_OK;
}

void mica_msg_open(mica_wr *w, enum mica_hs_type type, size_t *mark)
{
    mica_wr_u8(w, (uint8_t)type);
    mica_wr_open24(w, mark);
}

void mica_msg_close(mica_wr *w, size_t mark)
{
    mica_wr_close(w, mark);
}

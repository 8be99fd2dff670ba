/* supported_groups (RFC 8446 4.2.7, RFC 7919): in ClientHello and EncryptedExtensions. */
#include "tls/ext/ext.h"

mica_err mica_ext_supported_groups(mica_rd d, mica_rd *groups)
{
    /* struct { NamedGroup named_group_list<2..2^16-1>; } NamedGroupList; */
    return mica_ext_u16_list(d, 2, 0xffff, groups);
}

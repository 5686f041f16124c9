/**
 * @file turn_names.c  Display names of STUN/TURN methods, classes,
 * attributes and error codes.
 *
 * Attribute types cover RFC 3489 (deprecated, still seen), RFC 5389/8489
 * STUN, RFC 5766/8656 TURN, RFC 6062 TURN-TCP, RFC 6156 TURN-IPv6,
 * RFC 5245/8445 ICE, RFC 5780 NAT behaviour discovery, RFC 7635/7982/8016
 * and every MS-TURN, MS-ICE2 and bandwidth-management type listed in
 * [MS-TURN] 2.2.2, [MS-ICE2] 2.2.2 and [MS-TURNBWM] and in Wireshark's
 * epan/dissectors/packet-stun.c. Names follow the RFCs and Wireshark.
 */
#include <stddef.h>
#include <stdint.h>

#include "turn_msg.h"

struct name16 {
	uint16_t v;
	const char *name;
};

/* clang-format off */
static const struct name16 methods[] = {
	{0x001, "Binding"},
	{0x002, "SharedSecret"},         /* RFC 3489 */
	{0x003, "Allocate"},
	{0x004, "Refresh"},
	{0x006, "Send"},                 /* MS-TURN: Set Active Destination */
	{0x007, "Data"},
	{0x008, "CreatePermission"},
	{0x009, "ChannelBind"},
	{0x00a, "Connect"},              /* RFC 6062 */
	{0x00b, "ConnectionBind"},       /* RFC 6062 */
	{0x00c, "ConnectionAttempt"},    /* RFC 6062 */
	{0x080, "GOOG-PING"},            /* Google/WebRTC */
};

static const struct name16 attrs[] = {
	/* comprehension-required */
	{0x0001, "MAPPED-ADDRESS"},
	{0x0002, "RESPONSE-ADDRESS"},            /* RFC 3489 */
	{0x0003, "CHANGE-REQUEST"},              /* RFC 5780 */
	{0x0004, "SOURCE-ADDRESS"},              /* RFC 3489 */
	{0x0005, "CHANGED-ADDRESS"},             /* RFC 3489 */
	{0x0006, "USERNAME"},
	{0x0007, "PASSWORD"},                    /* RFC 3489 */
	{0x0008, "MESSAGE-INTEGRITY"},
	{0x0009, "ERROR-CODE"},
	{0x000a, "UNKNOWN-ATTRIBUTES"},
	{0x000b, "REFLECTED-FROM"},              /* RFC 3489 */
	{0x000c, "CHANNEL-NUMBER"},
	{0x000d, "LIFETIME"},
	{0x000e, "ALTERNATE-SERVER (MS-TURN)"},
	{0x000f, "MAGIC-COOKIE"},                /* MS-TURN */
	{0x0010, "BANDWIDTH"},                   /* MS-TURN, TURN-07 */
	{0x0011, "DESTINATION-ADDRESS"},         /* MS-TURN */
	{0x0012, "XOR-PEER-ADDRESS"},
	{0x0013, "DATA"},
	{0x0014, "REALM"},
	{0x0015, "NONCE"},
	{0x0016, "XOR-RELAYED-ADDRESS"},
	{0x0017, "REQUESTED-ADDRESS-FAMILY"},    /* RFC 6156/8656 */
	{0x0018, "EVEN-PORT"},
	{0x0019, "REQUESTED-TRANSPORT"},
	{0x001a, "DONT-FRAGMENT"},
	{0x001b, "ACCESS-TOKEN"},                /* RFC 7635 */
	{0x001c, "MESSAGE-INTEGRITY-SHA256"},    /* RFC 8489 */
	{0x001d, "PASSWORD-ALGORITHM"},          /* RFC 8489 */
	{0x001e, "USERHASH"},                    /* RFC 8489 */
	{0x0020, "XOR-MAPPED-ADDRESS"},
	{0x0022, "RESERVATION-TOKEN"},
	{0x0024, "PRIORITY"},                    /* RFC 5245/8445 */
	{0x0025, "USE-CANDIDATE"},               /* RFC 5245/8445 */
	{0x0026, "PADDING"},                     /* RFC 5780 */
	{0x0027, "RESPONSE-PORT"},               /* RFC 5780 */
	{0x002a, "CONNECTION-ID"},               /* RFC 6062 */
	/* comprehension-optional */
	{0x8000, "ADDITIONAL-ADDRESS-FAMILY"},   /* RFC 8656 */
	{0x8001, "ADDRESS-ERROR-CODE"},          /* RFC 8656 */
	{0x8002, "PASSWORD-ALGORITHMS"},         /* RFC 8489 */
	{0x8003, "ALTERNATE-DOMAIN"},            /* RFC 8489 */
	{0x8004, "ICMP"},                        /* RFC 8656 */
	{0x8006, "MS-TURN-8006"},                /* unnamed in MS-TURN, W */
	{0x8008, "MS-VERSION"},
	{0x8020, "MS-XOR-MAPPED-ADDRESS"},
	{0x8022, "SOFTWARE"},
	{0x8023, "ALTERNATE-SERVER"},
	{0x8025, "TRANSACTION-TRANSMIT-COUNTER"}, /* RFC 7982 */
	{0x8027, "CACHE-TIMEOUT"},               /* RFC 5780 */
	{0x8028, "FINGERPRINT"},
	{0x8029, "ICE-CONTROLLED"},
	{0x802a, "ICE-CONTROLLING"},
	{0x802b, "RESPONSE-ORIGIN"},             /* RFC 5780 */
	{0x802c, "OTHER-ADDRESS"},               /* RFC 5780 */
	{0x802e, "THIRD-PARTY-AUTHORIZATION"},   /* RFC 7635 */
	{0x8030, "MOBILITY-TICKET"},             /* RFC 8016 */
	{0x8032, "MS-ALTERNATE-HOST-NAME"},
	{0x8037, "MS-APP-ID"},
	{0x8039, "MS-SECURE-TAG"},
	{0x8050, "MS-SEQUENCE-NUMBER"},
	{0x8054, "CANDIDATE-IDENTIFIER"},        /* MS-ICE2 */
	{0x8055, "MS-SERVICE-QUALITY"},
	{0x8056, "BANDWIDTH-ACM"},               /* MS-TURNBWM */
	{0x8057, "BANDWIDTH-RESERVATION-ID"},
	{0x8058, "BANDWIDTH-RESERVATION-AMOUNT"},
	{0x8059, "REMOTE-SITE-ADDRESS"},
	{0x805a, "REMOTE-RELAY-SITE-ADDRESS"},
	{0x805b, "LOCAL-SITE-ADDRESS"},
	{0x805c, "LOCAL-RELAY-SITE-ADDRESS"},
	{0x805d, "REMOTE-SITE-ADDRESS-RESPONSE"},
	{0x805e, "REMOTE-RELAY-SITE-ADDRESS-RESPONSE"},
	{0x805f, "LOCAL-SITE-ADDRESS-RESPONSE"},
	{0x8060, "LOCAL-RELAY-SITE-ADDRESS-RESPONSE"},
	{0x8061, "SIP-DIALOG-ID"},
	{0x8062, "SIP-CALL-ID"},
	{0x8068, "LOCATION-PROFILE"},
	{0x8070, "IMPLEMENTATION-VERSION"},      /* MS-ICE2 */
	{0x8090, "MS-ALT-MAPPED-ADDRESS"},
	{0x8095, "MS-MULTIPLEXED-TURN-SESSION-ID"},
	{0xc057, "GOOG-NETWORK-INFO"},           /* WebRTC */
};

/* MS-TURN (and RFC 3489-era TURN drafts) gave these numbers other
 * meanings; REALM and NONCE are swapped ([MS-TURN] 2.2.2) */
static const struct name16 legacy_attrs[] = {
	{0x0012, "REMOTE-ADDRESS"},
	{0x0014, "NONCE (MS-TURN)"},
	{0x0015, "REALM (MS-TURN)"},
};

static const struct name16 errors[] = {
	{274, "Disable Candidate"},               /* MS-ICE2BWM */
	{275, "Disable Candidate Pair"},          /* MS-ICE2BWM */
	{300, "Try Alternate"},
	{400, "Bad Request"},
	{401, "Unauthorized"},
	{403, "Forbidden"},
	{405, "Mobility Forbidden"},              /* RFC 8016 */
	{420, "Unknown Attribute"},
	{430, "Stale Credentials"},               /* RFC 3489 */
	{431, "Integrity Check Failure"},         /* RFC 3489 */
	{432, "Missing Username"},                /* RFC 3489 */
	{433, "Use TLS"},                         /* RFC 3489 */
	{434, "Missing Realm"},                   /* MS-TURN legacy */
	{435, "Missing Nonce"},                   /* MS-TURN legacy */
	{436, "Unknown User"},                    /* MS-TURN legacy */
	{437, "Allocation Mismatch"},
	{438, "Stale Nonce"},
	{440, "Address Family not Supported"},
	{441, "Wrong Credentials"},
	{442, "Unsupported Transport Protocol"},
	{443, "Peer Address Family Mismatch"},
	{446, "Connection Already Exists"},       /* RFC 6062 */
	{447, "Connection Timeout or Failure"},   /* RFC 6062 */
	{486, "Allocation Quota Reached"},
	{487, "Role Conflict"},
	{500, "Server Error"},
	{508, "Insufficient Capacity"},
	{600, "Global Failure"},
};
/* clang-format on */


static const char *lookup(const struct name16 *t, size_t n, uint16_t v)
{
	for (size_t i = 0; i < n; ++i) {
		if (t[i].v == v)
			return t[i].name;
	}
	return NULL;
}

#define LOOKUP(t, v) lookup(t, sizeof(t) / sizeof((t)[0]), v)


/** Method name ("Binding", "ConnectionBind"...), NULL if unknown */
const char *turn_method_name(uint16_t method)
{
	return LOOKUP(methods, method);
}


/** Class name as Wireshark prints it ("Request", "Success Response"...) */
const char *turn_class_name(uint8_t cls)
{
	switch (cls) {

	case TURN_C_REQUEST:
		return "Request";
	case TURN_C_INDICATION:
		return "Indication";
	case TURN_C_SUCCESS:
		return "Success Response";
	case TURN_C_ERROR:
		return "Error Response";
	default:
		return NULL;
	}
}


/** Attribute name for an RFC 5389 message, NULL if unknown */
const char *turn_attr_name(uint16_t type)
{
	return LOOKUP(attrs, type);
}


/** Attribute name for a message without the magic cookie, NULL if unknown */
const char *turn_attr_name_legacy(uint16_t type)
{
	const char *name = LOOKUP(legacy_attrs, type);

	return name ? name : turn_attr_name(type);
}


/** Standard reason phrase of a STUN error code, NULL if unknown */
const char *turn_error_phrase(uint16_t code)
{
	return LOOKUP(errors, code);
}

/**
 * @file sdpr_edit.c  Reading and editing the model: media sections (m=),
 * connection data (c=), origin version (o=) and attributes (a=).
 *
 * Every edit writes one whole line in canonical form (single spaces, the
 * parsed fields in RFC 8866 order) through sdpr_line_replace() or
 * sdpr_line_insert(), which re-parse it; nothing else is touched. New
 * lines go where RFC 8866 5 orders them: c= after the o/s/i/u/e/p lines of
 * the session or the m=/i= lines of a media section, a= after the last a=
 * of their level.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdpr_int.h"


/**
 * Line index of the m= line of a media section
 *
 * @return 0, EINVAL or ENOENT
 */
int sdpr_media_line(const struct sdpr *sdp, int media, size_t *posp)
{
	size_t start, end;
	int err;

	if (media < 0)
		return EINVAL;
	err = sdpr_section(sdp, media, &start, &end);
	if (!err)
		*posp = start;
	return err;
}


static const struct sdpr_line *mline(const struct sdpr *sdp, int media)
{
	size_t pos;

	return sdpr_media_line(sdp, media, &pos) ? NULL : &sdp->lines[pos];
}


/** Number of media sections (m= lines) */
unsigned sdpr_media_count(const struct sdpr *sdp)
{
	unsigned n = 0;

	for (size_t i = 0; sdp && i < sdp->n; ++i)
		n += sdp->lines[i].type == 'm';
	return n;
}


/** Media type of a section ("audio", "applicationsharing"), or NULL */
const char *sdpr_media_type(const struct sdpr *sdp, int media)
{
	const struct sdpr_line *ln = mline(sdp, media);

	return ln ? ln->u.m.type : NULL;
}


/** Transport protocol of a section ("TCP/RTP/AVP"), or NULL */
const char *sdpr_media_proto(const struct sdpr *sdp, int media)
{
	const struct sdpr_line *ln = mline(sdp, media);

	return ln ? ln->u.m.proto : NULL;
}


/** Format list of a section, single-space separated ("0 8 101"), or NULL */
const char *sdpr_media_fmt(const struct sdpr *sdp, int media)
{
	const struct sdpr_line *ln = mline(sdp, media);

	return ln ? ln->u.m.fmt : NULL;
}


/**
 * Port of a media section (0 for a rejected or disabled stream)
 *
 * @return 0, EINVAL or ENOENT
 */
int sdpr_media_port(const struct sdpr *sdp, int media, uint16_t *portp)
{
	size_t pos;
	int err;

	if (!portp)
		return EINVAL;
	err = sdpr_media_line(sdp, media, &pos);
	if (!err)
		*portp = sdp->lines[pos].u.m.port;
	return err;
}


/**
 * Media types of the body in order, comma-separated ("audio,video")
 *
 * @return 0, EINVAL or ERANGE (buf too small); "" for no media
 */
int sdpr_media_types(const struct sdpr *sdp, char *buf, size_t size)
{
	size_t off = 0;

	if (!sdp || !buf || !size)
		return EINVAL;
	for (size_t i = 0; i < sdp->n; ++i) {
		const struct sdpr_line *ln = &sdp->lines[i];
		size_t tl;

		if (ln->type != 'm')
			continue;
		tl = strlen(ln->u.m.type);
		if (off + !!off + tl + 1 > size)
			return ERANGE;
		if (off)
			buf[off++] = ',';
		memcpy(buf + off, ln->u.m.type, tl);
		off += tl;
	}
	buf[off] = '\0';
	return 0;
}


/**
 * First media section of a type (case-insensitive) at index >= start
 *
 * @return 0, EINVAL or ENOENT
 */
int sdpr_media_find(const struct sdpr *sdp, const char *type,
		    unsigned start, int *mediap)
{
	unsigned n = sdpr_media_count(sdp);

	if (!sdp || !type || !mediap)
		return EINVAL;
	for (unsigned m = start; m < n; ++m) {
		if (!strcasecmp(sdpr_media_type(sdp, (int)m), type)) {
			*mediap = (int)m;
			return 0;
		}
	}
	return ENOENT;
}


static bool token_valid(const char *s)
{
	return *s && strlen(s) < 64 && sdpr_text_valid(s) &&
	       !strpbrk(s, " \t");
}


static int mline_write(struct sdpr *sdp, size_t pos, uint16_t port,
		       const char *proto)
{
	const struct sdpr_line *ln = &sdp->lines[pos];
	char *text = NULL, nports[16] = "";
	int err;

	if (ln->u.m.nports)
		snprintf(nports, sizeof(nports), "/%u", ln->u.m.nports);
	err = sdpr_textf(&text, "m=%s %u%s %s %s", ln->u.m.type, port,
			 nports, proto, ln->u.m.fmt);
	if (!err)
		err = sdpr_line_replace(sdp, pos, text);
	free(text);
	return err;
}


/**
 * Set the port of a media section's m= line (keeps a "/<n>" count)
 *
 * @return 0, EINVAL, ENOENT or ENOMEM
 */
int sdpr_media_set_port(struct sdpr *sdp, int media, uint16_t port)
{
	size_t pos;
	int err;

	err = sdpr_media_line(sdp, media, &pos);
	if (err)
		return err;
	if (sdp->lines[pos].u.m.port == port)
		return 0;
	return mline_write(sdp, pos, port, sdp->lines[pos].u.m.proto);
}


/**
 * Set the transport protocol of a media section ("TCP/RTP/SAVP")
 *
 * @return 0, EINVAL, ENOENT or ENOMEM
 */
int sdpr_media_set_proto(struct sdpr *sdp, int media, const char *proto)
{
	size_t pos;
	int err;

	if (!proto || !token_valid(proto))
		return EINVAL;
	err = sdpr_media_line(sdp, media, &pos);
	if (err)
		return err;
	if (!strcmp(sdp->lines[pos].u.m.proto, proto))
		return 0;
	return mline_write(sdp, pos, sdp->lines[pos].u.m.port, proto);
}


/* First line of a type in [start, end), or end */
static size_t find_type(const struct sdpr *sdp, size_t start, size_t end,
			char type)
{
	while (start < end && sdp->lines[start].type != type)
		++start;
	return start;
}


/**
 * Address of the c= line that applies to a level: a media section's own
 * c=, else the session's; SDPR_SESSION reads the session's only
 *
 * @param addrp  receives the address as written (a multicast one keeps
 *               its "/ttl")
 * @return 0, EINVAL or ENOENT
 */
int sdpr_conn_get(const struct sdpr *sdp, int media, const char **addrp)
{
	size_t start, end, pos;
	int err;

	if (!addrp)
		return EINVAL;
	err = sdpr_section(sdp, media, &start, &end);
	if (err)
		return err;
	pos = find_type(sdp, start, end, 'c');
	if (pos == end && media != SDPR_SESSION) {
		err = sdpr_section(sdp, SDPR_SESSION, &start, &end);
		if (err)
			return err;
		pos = find_type(sdp, start, end, 'c');
	}
	if (pos == end)
		return ENOENT;
	*addrp = sdp->lines[pos].u.c.addr;
	return 0;
}


/* Where a new c= goes: after the last line of a type in types */
static size_t conn_insert_pos(const struct sdpr *sdp, size_t start,
			      size_t end, const char *types)
{
	size_t pos = start;

	for (size_t i = start; i < end; ++i) {
		if (sdp->lines[i].type && strchr(types, sdp->lines[i].type))
			pos = i + 1;
	}
	return pos;
}


/**
 * Set the c= address of exactly one level (SDPR_SESSION or a media
 * section): rewrites its first c= line as "c=IN IP4|IP6 <addr>", or adds
 * one (IP6 when addr contains ':')
 *
 * @return 0, EINVAL, ENOENT, EMSGSIZE or ENOMEM
 */
int sdpr_conn_set(struct sdpr *sdp, int media, const char *addr)
{
	size_t start, end, pos;
	char *text = NULL;
	int err;

	if (!addr || !sdpr_addr_valid(addr))
		return EINVAL;
	err = sdpr_section(sdp, media, &start, &end);
	if (err)
		return err;
	err = sdpr_textf(&text, "c=IN %s %s", strchr(addr, ':') ? "IP6" :
			 "IP4", addr);
	if (err)
		return err;
	pos = find_type(sdp, start, end, 'c');
	if (pos < end)
		err = sdpr_line_replace(sdp, pos, text);
	else
		err = sdpr_line_insert(sdp, conn_insert_pos(sdp, start, end,
				       media == SDPR_SESSION ? "vosiuep" :
							       "mi"), text);
	free(text);
	return err;
}


static size_t origin_pos(const struct sdpr *sdp)
{
	size_t start, end;

	if (sdpr_section(sdp, SDPR_SESSION, &start, &end))
		return SIZE_MAX;
	start = find_type(sdp, start, end, 'o');
	return start < end ? start : SIZE_MAX;
}


/**
 * Session version of the o= line
 *
 * @return 0, EINVAL or ENOENT (no o= line)
 */
int sdpr_origin_version(const struct sdpr *sdp, uint64_t *verp)
{
	size_t pos = origin_pos(sdp);

	if (!verp)
		return EINVAL;
	if (pos == SIZE_MAX)
		return sdp ? ENOENT : EINVAL;
	*verp = sdp->lines[pos].u.o.ver;
	return 0;
}


/**
 * Set the session version of the o= line
 *
 * @return 0, EINVAL, ENOENT or ENOMEM
 */
int sdpr_origin_set_version(struct sdpr *sdp, uint64_t ver)
{
	size_t pos = origin_pos(sdp);
	const struct sdpr_line *ln;
	char *text = NULL;
	int err;

	if (pos == SIZE_MAX)
		return sdp ? ENOENT : EINVAL;
	ln = &sdp->lines[pos];
	if (ln->u.o.ver == ver)
		return 0;
	err = sdpr_textf(&text, "o=%s %s %" PRIu64 " %s %s %s", ln->u.o.user,
			 ln->u.o.id, ver, ln->u.o.nettype, ln->u.o.addrtype,
			 ln->u.o.addr);
	if (!err)
		err = sdpr_line_replace(sdp, pos, text);
	free(text);
	return err;
}


/**
 * Increment the o= session version (RFC 3264 8: every new offer)
 *
 * @return 0, EINVAL, ENOENT, ERANGE (already UINT64_MAX) or ENOMEM
 */
int sdpr_origin_bump(struct sdpr *sdp)
{
	uint64_t ver;
	int err;

	err = sdpr_origin_version(sdp, &ver);
	if (err)
		return err;
	if (ver == UINT64_MAX)
		return ERANGE;
	return sdpr_origin_set_version(sdp, ver + 1);
}


/* Line index of the nth a=<name> of a level, or SIZE_MAX */
static size_t attr_pos(const struct sdpr *sdp, int media, const char *name,
		       unsigned nth)
{
	size_t start, end;

	if (!name || sdpr_section(sdp, media, &start, &end))
		return SIZE_MAX;
	for (size_t i = start; i < end; ++i) {
		if (sdpr_attr_is(&sdp->lines[i], name) && !nth--)
			return i;
	}
	return SIZE_MAX;
}


/** Number of a=<name> lines at a level */
unsigned sdpr_attr_count(const struct sdpr *sdp, int media, const char *name)
{
	size_t start, end;
	unsigned n = 0;

	if (!name || sdpr_section(sdp, media, &start, &end))
		return 0;
	for (size_t i = start; i < end; ++i)
		n += sdpr_attr_is(&sdp->lines[i], name);
	return n;
}


/**
 * Value of the nth (from 0) a=<name> line of a level, as written after
 * the ':'; "" for a property attribute (a=<name>); NULL if there is none
 */
const char *sdpr_attr_get(const struct sdpr *sdp, int media,
			  const char *name, unsigned nth)
{
	size_t pos = attr_pos(sdp, media, name, nth);

	if (pos == SIZE_MAX)
		return NULL;
	return sdp->lines[pos].val ? sdp->lines[pos].val : "";
}


static int attr_text(char **textp, const char *name, const char *value)
{
	if (!name || !token_valid(name) || strchr(name, ':'))
		return EINVAL;
	if (!value)
		return sdpr_textf(textp, "a=%s", name);
	if (!sdpr_text_valid(value))
		return EINVAL;
	return sdpr_textf(textp, "a=%s:%s", name, value);
}


/** Where a new a= line of a level goes: after its last a= line, else at
 *  the end of the level (before its trailing blank lines) */
size_t sdpr_attr_insert_pos(const struct sdpr *sdp, size_t start,
			      size_t end)
{
	size_t pos = sdpr_section_tail(sdp, start, end);

	for (size_t i = start; i < end; ++i) {
		if (sdp->lines[i].type == 'a')
			pos = i + 1;
	}
	return pos;
}


/**
 * Add a=<name>[:<value>] after the last a= line of a level
 *
 * @param value  NULL for a property attribute
 * @return 0, EINVAL, ENOENT, EMSGSIZE (line limit) or ENOMEM
 */
int sdpr_attr_add(struct sdpr *sdp, int media, const char *name,
		  const char *value)
{
	size_t start, end;
	char *text = NULL;
	int err;

	err = sdpr_section(sdp, media, &start, &end);
	if (!err)
		err = attr_text(&text, name, value);
	if (!err)
		err = sdpr_line_insert(sdp, sdpr_attr_insert_pos(sdp, start, end),
				       text);
	free(text);
	return err;
}


/**
 * Replace the nth a=<name> line of a level in place
 *
 * @return 0, EINVAL, ENOENT (no such line) or ENOMEM
 */
int sdpr_attr_replace(struct sdpr *sdp, int media, const char *name,
		      unsigned nth, const char *value)
{
	size_t pos;
	char *text = NULL;
	int err;

	err = attr_text(&text, name, value);
	if (err)
		return err;
	pos = attr_pos(sdp, media, name, nth);
	err = pos == SIZE_MAX ? ENOENT : sdpr_line_replace(sdp, pos, text);
	free(text);
	return err;
}


/**
 * Replace the first a=<name> line of a level, or add one if none
 *
 * @return 0, EINVAL, ENOENT (no such level), EMSGSIZE or ENOMEM
 */
int sdpr_attr_set(struct sdpr *sdp, int media, const char *name,
		  const char *value)
{
	if (attr_pos(sdp, media, name, 0) != SIZE_MAX)
		return sdpr_attr_replace(sdp, media, name, 0, value);
	return sdpr_attr_add(sdp, media, name, value);
}


/**
 * Remove every a=<name> line of a level
 *
 * @return 0, EINVAL or ENOENT (none there)
 */
int sdpr_attr_remove(struct sdpr *sdp, int media, const char *name)
{
	size_t pos;
	int err = ENOENT;

	if (!sdp || !name)
		return EINVAL;
	while ((pos = attr_pos(sdp, media, name, 0)) != SIZE_MAX) {
		sdpr_line_remove(sdp, pos);
		err = 0;
	}
	return err;
}


/* a=ice-ufrag / a=ice-pwd of a media section, else of the session
 * (RFC 5245 15.4), trimmed: MS-SDPEXT 4.1.3 writes "a=ice-ufrag: 6nxO" */
static int ice_attr(const struct sdpr *sdp, int media, const char *name,
		    char *buf, size_t size)
{
	const char *v;
	size_t len;

	if (!sdp || !buf)
		return EINVAL;
	v = sdpr_attr_get(sdp, media, name, 0);
	if (!v && media != SDPR_SESSION)
		v = sdpr_attr_get(sdp, SDPR_SESSION, name, 0);
	if (!v)
		return ENOENT;
	v += strspn(v, " \t");
	len = strcspn(v, " \t\r");
	if (!len || v[len + strspn(v + len, " \t\r")])
		return EBADMSG;
	if (len >= size)
		return ERANGE;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return 0;
}


/**
 * ICE username fragment of a media section (or of the session)
 *
 * @return 0, EINVAL, ENOENT, EBADMSG (empty or two words) or ERANGE
 */
int sdpr_ice_ufrag(const struct sdpr *sdp, int media, char *buf, size_t size)
{
	return ice_attr(sdp, media, "ice-ufrag", buf, size);
}


/**
 * ICE password of a media section (or of the session)
 *
 * @return 0, EINVAL, ENOENT, EBADMSG (empty or two words) or ERANGE
 */
int sdpr_ice_pwd(const struct sdpr *sdp, int media, char *buf, size_t size)
{
	return ice_attr(sdp, media, "ice-pwd", buf, size);
}

/**
 * @file sdpr_ice.c  ICE in the model: the candidate lines of a media
 * section, a=remote-candidates, and the updated offer that ends ICE.
 *
 * The candidate lines of a section are its a=candidate and
 * a=x-candidate-ipv6 lines (MS-SDPEXT 3.1.5.21.1), numbered in body order
 * whatever their class: ICE-19/RFC 5245, MS-ICE v1 (kept verbatim), or
 * malformed (kept verbatim, flagged). Added candidates go after the last
 * candidate line, else after a=ice-ufrag/a=ice-pwd, else after the last a=.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdpr_int.h"

/* Room for one printed candidate or remote-candidates entry */
#define CAND_TEXT_SIZE 512
#define REMC_ENTRY_SIZE (SDPR_ADDR_SIZE + 16)


/* Line index of the ith candidate line of a media section, or SIZE_MAX */
static size_t cand_pos(const struct sdpr *sdp, int media, unsigned i)
{
	size_t start, end;

	if (media < 0 || sdpr_section(sdp, media, &start, &end))
		return SIZE_MAX;
	for (size_t k = start; k < end; ++k) {
		if (sdp->lines[k].akind == SDPR_ATTR_CAND && !i--)
			return k;
	}
	return SIZE_MAX;
}


/** Number of candidate lines of a media section (every class) */
unsigned sdpr_cand_count(const struct sdpr *sdp, int media)
{
	size_t start, end;
	unsigned n = 0;

	if (media < 0 || sdpr_section(sdp, media, &start, &end))
		return 0;
	for (size_t k = start; k < end; ++k)
		n += sdp->lines[k].akind == SDPR_ATTR_CAND;
	return n;
}


/* Keep the parse of an ICE candidate line (at most as many as a model
 * has lines: beyond, lines replaced over and over are parsed each time) */
static void cand_keep(struct sdpr *sdp, struct sdpr_line *ln,
		      const struct sdpr_cand *c)
{
	if (sdp->ncands == sdp->capcands) {
		size_t cap = sdp->capcands ? 2 * sdp->capcands : 8;
		struct sdpr_cand *v;

		if (cap > SDPR_MAX_LINES ||
		    !(v = realloc(sdp->cands, cap * sizeof(*v))))
			return;
		sdp->cands = v;
		sdp->capcands = cap;
	}
	sdp->cands[sdp->ncands++] = *c;
	ln->cidx = (unsigned)sdp->ncands;
}


/**
 * Class of the candidate line at pos, parsed once (and c, optional, its
 * parse when it is SDPR_CAND_ICE): the getters of a const model fill in
 * what it keeps (sdpr_int.h)
 */
enum sdpr_ckind sdpr_line_ckind(const struct sdpr *csdp, size_t pos,
				struct sdpr_cand *c)
{
	struct sdpr *sdp = (struct sdpr *)csdp;
	struct sdpr_line *ln = &sdp->lines[pos];
	struct sdpr_cand tmp;
	int e;

	if (ln->cknown && (ln->ckind != SDPR_CAND_ICE || ln->cidx)) {
		if (c && ln->ckind == SDPR_CAND_ICE)
			*c = sdp->cands[ln->cidx - 1];
		return ln->ckind;
	}
	e = sdpr_cand_parse(c ? c : &tmp, ln->text, NULL);
	ln->ckind = !e ? SDPR_CAND_ICE :
		    e == EPROTO ? SDPR_CAND_ICEV1 : SDPR_CAND_BAD;
	ln->cknown = true;
	if (!e)
		cand_keep(sdp, ln, c ? c : &tmp);
	return ln->ckind;
}


/** Class of the ith candidate line; SDPR_CAND_BAD if there is none */
enum sdpr_ckind sdpr_cand_kind(const struct sdpr *sdp, int media, unsigned i)
{
	size_t pos = cand_pos(sdp, media, i);

	return pos == SIZE_MAX ? SDPR_CAND_BAD
			       : sdpr_line_ckind(sdp, pos, NULL);
}


/** Text of the ith candidate line as it is in the model, or NULL */
const char *sdpr_cand_text(const struct sdpr *sdp, int media, unsigned i)
{
	size_t pos = cand_pos(sdp, media, i);

	return pos == SIZE_MAX ? NULL : sdp->lines[pos].text;
}


/**
 * Parse the ith candidate line of a media section
 *
 * @return 0, ENOENT (no such line), EPROTO (MS-ICE v1), EBADMSG
 *         (malformed; sdpr_cand_parse() of sdpr_cand_text() says why)
 */
int sdpr_cand_get(const struct sdpr *sdp, int media, unsigned i,
		  struct sdpr_cand *c)
{
	size_t pos = cand_pos(sdp, media, i);

	if (!c)
		return EINVAL;
	if (pos == SIZE_MAX)
		return ENOENT;
	switch (sdpr_line_ckind(sdp, pos, c)) {

	case SDPR_CAND_ICE:
		return 0;

	case SDPR_CAND_ICEV1:
		return EPROTO;

	default:
		return EBADMSG;
	}
}


/** Number of malformed candidate lines in the whole body */
unsigned sdpr_cand_nbad(const struct sdpr *sdp)
{
	unsigned n = 0;

	for (size_t i = 0; sdp && i < sdp->n; ++i) {
		n += sdp->lines[i].akind == SDPR_ATTR_CAND &&
		     sdpr_line_ckind(sdp, i, NULL) == SDPR_CAND_BAD;
	}
	return n;
}


static size_t cand_insert_pos(const struct sdpr *sdp, size_t start,
			      size_t end)
{
	size_t cand = SIZE_MAX, ice = SIZE_MAX;

	for (size_t k = start; k < end; ++k) {
		const struct sdpr_line *ln = &sdp->lines[k];

		if (ln->akind == SDPR_ATTR_CAND)
			cand = k + 1;
		else if (sdpr_attr_is(ln, "ice-ufrag") ||
			 sdpr_attr_is(ln, "ice-pwd"))
			ice = k + 1;
	}
	if (cand != SIZE_MAX)
		return cand;
	if (ice != SIZE_MAX)
		return ice;
	return sdpr_attr_insert_pos(sdp, start, end);
}


/**
 * Add a candidate line to a media section, in the form c->form
 *
 * @return 0, EINVAL, ENOENT, EMSGSIZE or ENOMEM
 */
int sdpr_cand_add(struct sdpr *sdp, int media, const struct sdpr_cand *c)
{
	char text[CAND_TEXT_SIZE];
	size_t start, end;
	int err;

	if (media < 0)
		return EINVAL;
	err = sdpr_section(sdp, media, &start, &end);
	if (!err)
		err = sdpr_cand_print(c, text, sizeof(text));
	if (!err)
		err = sdpr_line_insert(sdp, cand_insert_pos(sdp, start, end),
				       text);
	return err;
}


/**
 * Replace the ith candidate line of a media section; the line keeps its
 * original text when c equals what it parses to
 *
 * @return 0, EINVAL, ENOENT or ENOMEM
 */
int sdpr_cand_replace(struct sdpr *sdp, int media, unsigned i,
		      const struct sdpr_cand *c)
{
	size_t pos = cand_pos(sdp, media, i);
	char text[CAND_TEXT_SIZE];
	struct sdpr_cand old;
	int err;

	if (!c)
		return EINVAL;
	if (pos == SIZE_MAX)
		return sdp && media >= 0 ? ENOENT : EINVAL;
	if (sdpr_line_ckind(sdp, pos, &old) == SDPR_CAND_ICE &&
	    sdpr_cand_equal(&old, c))
		return 0;
	err = sdpr_cand_print(c, text, sizeof(text));
	if (!err)
		err = sdpr_line_replace(sdp, pos, text);
	return err;
}


/**
 * Remove the ith candidate line of a media section
 *
 * @return 0, EINVAL or ENOENT
 */
int sdpr_cand_remove(struct sdpr *sdp, int media, unsigned i)
{
	size_t pos = cand_pos(sdp, media, i);

	if (pos == SIZE_MAX)
		return sdp && media >= 0 ? ENOENT : EINVAL;
	sdpr_line_remove(sdp, pos);
	return 0;
}


/**
 * Read a=remote-candidates of a media section
 *
 * @return 0, EINVAL, ENOENT, EBADMSG or ERANGE (more than max entries)
 */
int sdpr_remcand_get(const struct sdpr *sdp, int media,
		     struct sdpr_remcand *v, size_t max, size_t *np)
{
	const char *val;

	if (!sdp || media < 0 || !v || !np)
		return EINVAL;
	val = sdpr_attr_get(sdp, media, "remote-candidates", 0);
	if (!val)
		return ENOENT;
	return sdpr_remcand_parse(v, max, np, val);
}


/* Stable insertion sort by component: SfB conference servers reject an
 * unsorted a=remote-candidates (SIPE commit 5c8efaa2) */
static void remcand_sort(struct sdpr_remcand *v, size_t n)
{
	for (size_t i = 1; i < n; ++i) {
		struct sdpr_remcand t = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1].component > t.component; --j)
			v[j] = v[j - 1];
		v[j] = t;
	}
}


static int remcand_write(struct sdpr *sdp, int media, const char *text)
{
	size_t start, end, pos = SIZE_MAX;
	int err = sdpr_section(sdp, media, &start, &end);

	for (size_t k = start; !err && k < end; ++k) {
		if (!sdpr_attr_is(&sdp->lines[k], "remote-candidates"))
			continue;
		if (pos == SIZE_MAX) {
			pos = k;
			continue;
		}
		sdpr_line_remove(sdp, k--);
		--end;
	}
	if (err)
		return err;
	if (pos != SIZE_MAX)
		return sdpr_line_replace(sdp, pos, text);
	return sdpr_line_insert(sdp, cand_insert_pos(sdp, start, end), text);
}


/**
 * Set a=remote-candidates of a media section, sorted by component: the
 * first such line is rewritten (others removed) or one is added after the
 * candidates; n == 0 removes them all
 *
 * @return 0, EINVAL (n > 256 or an entry out of range), ENOENT, EMSGSIZE
 *         or ENOMEM
 */
int sdpr_remcand_set(struct sdpr *sdp, int media,
		     const struct sdpr_remcand *v, size_t n)
{
	struct sdpr_remcand *sorted = NULL;
	char *text = NULL;
	size_t size, pos;
	int err;

	if ((n && !v) || n > 256)
		return EINVAL;
	err = sdpr_media_line(sdp, media, &pos);
	if (err)
		return err;
	if (!n) {
		err = sdpr_attr_remove(sdp, media, "remote-candidates");
		return err == ENOENT ? 0 : err;
	}
	size = 32 + n * REMC_ENTRY_SIZE;
	sorted = malloc(n * sizeof(*sorted));
	text = malloc(size);
	err = sorted && text ? 0 : ENOMEM;
	if (err)
		goto out;
	memcpy(sorted, v, n * sizeof(*sorted));
	remcand_sort(sorted, n);
	err = sdpr_remcand_print(sorted, n, text, size);
	if (!err)
		err = remcand_write(sdp, media, text);
out:
	free(sorted);
	free(text);
	return err;
}


static int complete_check(const struct sdpr *sdp, int media,
			  const struct sdpr_cand *local, size_t nlocal,
			  const struct sdpr_cand **firstp)
{
	char text[CAND_TEXT_SIZE];
	size_t pos;
	int err;

	err = sdpr_media_line(sdp, media, &pos);
	if (err)
		return err;
	if (!local || !nlocal || nlocal > 256)
		return EINVAL;
	*firstp = &local[0];
	for (size_t i = 0; i < nlocal; ++i) {
		if (sdpr_cand_print(&local[i], text, sizeof(text)))
			return EINVAL;
		for (size_t j = 0; j < i; ++j) {
			if (local[j].component == local[i].component)
				return EINVAL;
		}
		if (local[i].component < (*firstp)->component)
			*firstp = &local[i];
	}
	return 0;
}


/* Keep the candidate lines equal to one of local (each once), remove the
 * others, add the locals that were not there */
static int cands_keep(struct sdpr *sdp, int media,
		      const struct sdpr_cand *local, size_t nlocal)
{
	bool *used = calloc(nlocal, sizeof(*used));
	unsigned i = 0;
	size_t pos;
	int err = 0;

	if (!used)
		return ENOMEM;
	while ((pos = cand_pos(sdp, media, i)) != SIZE_MAX) {
		struct sdpr_cand c;
		bool keep = false;

		if (sdpr_line_ckind(sdp, pos, &c) == SDPR_CAND_ICE) {
			for (size_t j = 0; j < nlocal && !keep; ++j) {
				keep = !used[j] && sdpr_cand_equal(&c,
								   &local[j]);
				used[j] = used[j] || keep;
			}
		}
		if (keep)
			++i;
		else
			sdpr_line_remove(sdp, pos);
	}
	for (size_t j = 0; j < nlocal && !err; ++j) {
		if (!used[j])
			err = sdpr_cand_add(sdp, media, &local[j]);
	}
	free(used);
	return err;
}


static bool has_conn(const struct sdpr *sdp, int media)
{
	size_t start, end;

	if (sdpr_section(sdp, media, &start, &end))
		return false;
	for (size_t k = start; k < end; ++k) {
		if (sdp->lines[k].type == 'c')
			return true;
	}
	return false;
}


/* The default destination of a section (RFC 5245 9.1.2.2): its own c=,
 * else the session's when no other section relies on it, else a new
 * media-level c= */
static int conn_default_set(struct sdpr *sdp, int media, const char *addr)
{
	unsigned n = sdpr_media_count(sdp);
	bool shared = false;

	if (has_conn(sdp, media) || !has_conn(sdp, SDPR_SESSION))
		return sdpr_conn_set(sdp, media, addr);
	for (unsigned m = 0; m < n && !shared; ++m)
		shared = (int)m != media && !has_conn(sdp, (int)m);
	return sdpr_conn_set(sdp, shared ? media : SDPR_SESSION, addr);
}


/* a=rtcp follows the component-2 candidate (RFC 5245 4.3, RFC 3605) */
static int rtcp_set(struct sdpr *sdp, int media, const struct sdpr_cand *local,
		    size_t nlocal)
{
	const struct sdpr_cand *c2 = NULL;
	const char *val;
	char text[SDPR_ADDR_SIZE + 32];

	for (size_t i = 0; i < nlocal; ++i) {
		if (local[i].component == 2)
			c2 = &local[i];
	}
	val = sdpr_attr_get(sdp, media, "rtcp", 0);
	if (!c2 || !val)
		return 0;
	val += strspn(val, " \t");
	if (val[strcspn(val, " \t")])
		snprintf(text, sizeof(text), "%u IN %s %s", c2->port,
			 strchr(c2->addr, ':') ? "IP6" : "IP4", c2->addr);
	else
		snprintf(text, sizeof(text), "%u", c2->port);
	return sdpr_attr_replace(sdp, media, "rtcp", 0, text);
}


/**
 * Turn a media section into the updated offer that concludes ICE
 * (RFC 5245 9.1.2.2; MS-ICE2 final offer; pidgin-sipe's second INVITE):
 *  - the candidate lines become exactly local (lines equal to one of them
 *    keep their text; the others, MS-ICE v1 and malformed included, go;
 *    missing ones are added in the order given),
 *  - m= port and the default c= become those of the lowest component's
 *    local candidate (the section's c=, else the session's if no other
 *    section uses it, else a new media-level c=), a=rtcp follows the
 *    component-2 candidate if the section has a=rtcp,
 *  - a=remote-candidates is set to remote sorted by component (removed
 *    if nremote == 0: the controlled agent's answer has none),
 *  - the o= version is incremented (if there is an o= line).
 * All or nothing: on error the model is unchanged.
 *
 * @param local   the selected local candidate of each component,
 *                components distinct
 * @param remote  the selected remote candidate of each component
 * @return 0, EINVAL, ENOENT (no such section), ERANGE, EMSGSIZE or ENOMEM
 */
int sdpr_ice_complete(struct sdpr *sdp, int media,
		      const struct sdpr_cand *local, size_t nlocal,
		      const struct sdpr_remcand *remote, size_t nremote)
{
	const struct sdpr_cand *first = NULL;
	struct sdpr *d = NULL, tmp;
	int err;

	err = complete_check(sdp, media, local, nlocal, &first);
	if (!err)
		err = sdpr_dup(&d, sdp);
	if (!err)
		err = cands_keep(d, media, local, nlocal);
	if (!err)
		err = sdpr_media_set_port(d, media, first->port);
	if (!err)
		err = conn_default_set(d, media, first->addr);
	if (!err)
		err = rtcp_set(d, media, local, nlocal);
	if (!err)
		err = sdpr_remcand_set(d, media, remote, nremote);
	if (!err) {
		err = sdpr_origin_bump(d);
		err = err == ENOENT ? 0 : err;
	}
	if (!err) {
		tmp = *sdp;
		*sdp = *d;
		*d = tmp;
	}
	sdpr_free(d);
	return err;
}

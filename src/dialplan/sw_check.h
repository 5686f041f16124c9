/**
 * @file sw_check.h  Everything sharewayd checks before it runs, written
 * once: the daemon's start, its reload, `sharewayd --check-config` and
 * `shareway check-config` all go through sw_check_load().
 *
 * A configuration passes when the daemon would run with it: every key of
 * shareway.conf (sw_conf_load), the TLS files of every identity it names
 * (the certificate chain parses, the key matches it, the CA bundle
 * loads), each zone's peer list, the run-time paths, and the rule file
 * loaded against the zones. The first fault is returned as file:line:key: what is wrong.
 */
#ifndef SW_CHECK_H
#define SW_CHECK_H

#include <stddef.h>

#include "sw_conf.h"
#include "sw_rules.h"

#define SW_CHECK_MAX_NOTES 8

/** What passes but deserves a word (0 rules, a certificate expired) */
struct sw_check_notes {
	unsigned n;
	char text[SW_CHECK_MAX_NOTES][512];
};

int sw_check_load(struct sw_conf *conf, const char *path,
		  const char *state_dir, struct sw_rules **rulesp,
		  struct sw_check_notes *notes, char *err, size_t errsz);
int sw_check_zones(const struct sw_conf *conf, char *err, size_t errsz);
int sw_check_tls(const struct sw_conf *conf, struct sw_check_notes *notes,
		 char *err, size_t errsz);
int sw_check_paths(const struct sw_conf *conf, const char *state_dir,
		   char *err, size_t errsz);
int sw_check_cluster(const struct sw_conf *conf, char *err, size_t errsz);
int sw_check_observe(const struct sw_conf *conf, struct sw_check_notes *notes,
		     char *err, size_t errsz);

#endif

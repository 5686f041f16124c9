# docs/: man pages; contrib/: the systemd unit; conf/: the production
# samples `make install` puts in $(sysconfdir)/shareway.
dist_man_MANS += docs/man/sharewayd.8 docs/man/shareway.conf.5 \
	docs/man/shareway.1 docs/man/shareway-calls.1 \
	docs/man/shareway-show.1 docs/man/shareway-ladder.1 \
	docs/man/shareway-sdp.1 docs/man/shareway-tail.1 \
	docs/man/shareway-export.1 docs/man/shareway-relays.1 \
	docs/man/shareway-stats.1 docs/man/shareway-status.1 \
	docs/man/shareway-reload.1 docs/man/shareway-check-config.1 \
	docs/man/shareway-locate.1 docs/man/shareway-stun-decode.1 \
	docs/man/shareway-drain.1 docs/man/shareway-undrain.1 \
	docs/man/shareway-resume.1 \
	docs/man/shareway-log-level.1

# the systemd unit, with this build's paths
systemdsystemunitdir = $(prefix)/lib/systemd/system
systemdsystemunit_DATA = contrib/sharewayd.service
EXTRA_DIST += contrib/sharewayd.service.in contrib/kamailio/kamailio.cfg \
	contrib/kamailio/dispatcher.list conf/production.sed debian
CLEANFILES += contrib/sharewayd.service conf/shareway.conf.sample \
	conf/rules.conf.sample

contrib/sharewayd.service: $(srcdir)/contrib/sharewayd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@bindir[@]|$(bindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    $(srcdir)/contrib/sharewayd.service.in >$@

# the production samples, made from the loopback demo in conf/ by
# conf/production.sed (every key written once, in conf/shareway.conf)
conf/shareway.conf.sample: $(srcdir)/conf/shareway.conf \
		$(srcdir)/conf/production.sed Makefile
	$(AM_V_GEN)$(MKDIR_P) conf && \
	sed -f $(srcdir)/conf/production.sed \
	    -e 's|@STATEDIR[@]|$(localstatedir)/lib/shareway|g' \
	    -e 's|@RUNDIR[@]|$(runstatedir)/shareway|g' \
	    $(srcdir)/conf/shareway.conf >$@
conf/rules.conf.sample: $(srcdir)/conf/rules.conf \
		$(srcdir)/conf/production.sed Makefile
	$(AM_V_GEN)$(MKDIR_P) conf && \
	sed -f $(srcdir)/conf/production.sed $(srcdir)/conf/rules.conf >$@
all-local: conf/shareway.conf.sample conf/rules.conf.sample

# the samples: always installed as *.sample; shareway.conf and rules.conf
# are created from them only where none exists yet, so an operator's
# files are never overwritten. The state directory is the default
# state_dir (the package owns it; the unit's StateDirectory makes it the
# service user's). The control socket's directory is not made here: it
# lives in /run, made at each start (RuntimeDirectory, or sharewayd).
shareway_confdir = $(sysconfdir)/shareway
shareway_statedir = $(localstatedir)/lib/shareway

install-data-local: conf/shareway.conf.sample conf/rules.conf.sample
	$(MKDIR_P) $(DESTDIR)$(shareway_confdir) $(DESTDIR)$(shareway_statedir)
	for f in shareway.conf rules.conf; do \
	  $(INSTALL_DATA) conf/$$f.sample \
	    $(DESTDIR)$(shareway_confdir)/$$f.sample || exit 1; \
	  test -e $(DESTDIR)$(shareway_confdir)/$$f || \
	    $(INSTALL_DATA) conf/$$f.sample \
	      $(DESTDIR)$(shareway_confdir)/$$f || exit 1; \
	done

uninstall-local:
	rm -f $(DESTDIR)$(shareway_confdir)/shareway.conf.sample \
	  $(DESTDIR)$(shareway_confdir)/rules.conf.sample

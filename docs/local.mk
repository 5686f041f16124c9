# docs/: man pages; contrib/: the systemd unit; conf/: the sample
# configuration `make install` puts in $(sysconfdir)/shareway.
dist_man_MANS += docs/man/sharewayd.8 docs/man/shareway.conf.5 \
	docs/man/shareway.1 docs/man/shareway-calls.1 \
	docs/man/shareway-show.1 docs/man/shareway-ladder.1 \
	docs/man/shareway-sdp.1 docs/man/shareway-tail.1 \
	docs/man/shareway-export.1 docs/man/shareway-relays.1 \
	docs/man/shareway-stats.1 docs/man/shareway-status.1 \
	docs/man/shareway-reload.1 docs/man/shareway-check-config.1 \
	docs/man/shareway-locate.1 docs/man/shareway-stun-decode.1 \
	docs/man/shareway-drain.1 docs/man/shareway-undrain.1 \
	docs/man/shareway-resume.1

# the systemd unit, with this build's paths
systemdsystemunitdir = $(prefix)/lib/systemd/system
systemdsystemunit_DATA = contrib/sharewayd.service
EXTRA_DIST += contrib/sharewayd.service.in contrib/kamailio/kamailio.cfg \
	contrib/kamailio/dispatcher.list
CLEANFILES += contrib/sharewayd.service

contrib/sharewayd.service: $(srcdir)/contrib/sharewayd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    $(srcdir)/contrib/sharewayd.service.in >$@

# the sample configuration: always installed as *.sample; shareway.conf
# and rules.conf are created from it only where none exists yet, so an
# operator's files are never overwritten
shareway_confdir = $(sysconfdir)/shareway

install-data-local:
	$(MKDIR_P) $(DESTDIR)$(shareway_confdir)
	for f in shareway.conf rules.conf; do \
	  $(INSTALL_DATA) $(srcdir)/conf/$$f \
	    $(DESTDIR)$(shareway_confdir)/$$f.sample || exit 1; \
	  test -e $(DESTDIR)$(shareway_confdir)/$$f || \
	    $(INSTALL_DATA) $(srcdir)/conf/$$f \
	      $(DESTDIR)$(shareway_confdir)/$$f || exit 1; \
	done

uninstall-local:
	rm -f $(DESTDIR)$(shareway_confdir)/shareway.conf.sample \
	  $(DESTDIR)$(shareway_confdir)/rules.conf.sample

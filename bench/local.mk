# bench/: `make bench` runs every benchmark side by side with its reference.
bench: all
	@$(abs_top_srcdir)/bench/run-all.sh $(abs_top_builddir)

.PHONY: bench

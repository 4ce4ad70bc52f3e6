# Per-target libFuzzer options (sourced by brief.sh and the Makefile's fuzz
# target): input size caps and timeouts fitting what each target reads.
fuzz_options() {
  case $1 in
    documents|apply) echo "-max_len=4096 -timeout=10" ;;
    http) echo "-max_len=8192 -timeout=20" ;;
    cron) echo "-max_len=256 -timeout=10" ;;
    resources|gateway_host|render|expand) echo "-max_len=1024 -timeout=10" ;;
    search_space) echo "-max_len=2048 -timeout=20" ;;
    *) echo "-max_len=4096 -timeout=10" ;;
  esac
}

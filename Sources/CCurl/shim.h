#ifndef STRATA_CCURL_SHIM_H
#define STRATA_CCURL_SHIM_H
#include <curl/curl.h>
// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed wrapper per
// argument kind Strata passes.
typedef size_t (*strata_curl_data_fn)(char *, size_t, size_t, void *);
typedef int (*strata_curl_progress_fn)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
static inline CURLcode strata_curl_set_long(CURL *c, CURLoption o, long v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode strata_curl_set_pointer(CURL *c, CURLoption o, const void *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode strata_curl_set_size(CURL *c, CURLoption o, curl_off_t v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode strata_curl_set_data_fn(CURL *c, CURLoption o, strata_curl_data_fn f) { return curl_easy_setopt(c, o, f); }
static inline CURLcode strata_curl_set_progress_fn(CURL *c, strata_curl_progress_fn f) { return curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, f); }
static inline CURLcode strata_curl_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }
// HTTP/1.1, no signals (threads), a fresh connection per exchange, progress callbacks on.
static inline void strata_curl_prepare(CURL *c) {
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}
static inline long strata_curl_status(CURL *c) { long s = 0; curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s); return s; }
#endif

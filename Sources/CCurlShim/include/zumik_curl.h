// Non-variadic wrappers over libcurl's variadic calls, which Swift cannot call directly.
#ifndef ZUMIK_CURL_H
#define ZUMIK_CURL_H

#include <curl/curl.h>

#ifdef __cplusplus
extern "C" {
#endif

CURLcode zumik_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode zumik_curl_setopt_ptr(CURL *handle, CURLoption option, void *value);
CURLcode zumik_curl_setopt_str(CURL *handle, CURLoption option, const char *value);
CURLcode zumik_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode zumik_curl_setopt_write(CURL *handle, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode zumik_curl_setopt_header(CURL *handle, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode zumik_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode zumik_curl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode zumik_curl_getinfo_ptr(CURL *handle, CURLINFO info, void **value);
CURLcode zumik_curl_getinfo_str(CURL *handle, CURLINFO info, char **value);
CURLMcode zumik_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/// Number of certificates in a `CURLINFO_CERTINFO` result (0 when none).
int zumik_curl_certinfo_count(const struct curl_certinfo *info);
/// The `key:value` lines of certificate `index` (NULL when out of range).
struct curl_slist *zumik_curl_certinfo_lines(const struct curl_certinfo *info, int index);

/// The CURLE_* result of a finished transfer in a CURLMSG_DONE message.
CURLcode zumik_curl_msg_result(const CURLMsg *msg);
/// Whether the message is CURLMSG_DONE.
int zumik_curl_msg_is_done(const CURLMsg *msg);

#ifdef __cplusplus
}
#endif
#endif

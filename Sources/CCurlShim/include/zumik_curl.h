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
CURLcode zumik_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode zumik_curl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode zumik_curl_getinfo_ptr(CURL *handle, CURLINFO info, void **value);
CURLcode zumik_curl_getinfo_str(CURL *handle, CURLINFO info, char **value);
CURLMcode zumik_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

#ifdef __cplusplus
}
#endif
#endif

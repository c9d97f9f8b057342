#include "zumik_curl.h"

CURLcode zumik_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
CURLcode zumik_curl_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
CURLcode zumik_curl_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
CURLcode zumik_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
CURLcode zumik_curl_setopt_write(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fn);
}
CURLcode zumik_curl_setopt_header(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fn);
}
CURLcode zumik_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
CURLcode zumik_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
CURLcode zumik_curl_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
CURLcode zumik_curl_getinfo_str(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
CURLMcode zumik_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

int zumik_curl_certinfo_count(const struct curl_certinfo *info) { return info ? info->num_of_certs : 0; }
struct curl_slist *zumik_curl_certinfo_lines(const struct curl_certinfo *info, int index) {
    if (!info || index < 0 || index >= info->num_of_certs) return NULL;
    return info->certinfo[index];
}

CURLcode zumik_curl_msg_result(const CURLMsg *msg) { return msg->data.result; }
int zumik_curl_msg_is_done(const CURLMsg *msg) { return msg->msg == CURLMSG_DONE; }

/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Fixed TEST-ONLY private keys for the JOSE fuzz targets and unit tests,
 * generated for this purpose with `openssl genpkey` (RSA 2048, X25519,
 * P-384) and
 * the P-256 key of RFC 7518 Appendix C ("Bob"). Never use them elsewhere. */

static const char jose_test_rsa_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCZtCje4Oq9KOkQ\n"
    "8Vx39aDo3TlMJUQREWsEbgCFN6szzDkcN1m8WOuAPLHn0Bv6Z/V+6mXoogfhqoey\n"
    "Sl5JfQjynS8bHHt+VyLzijR40ttUHlhdtZMIfXvRdm/cHY64pYl2oN8lAQzcf9bO\n"
    "grM/Bfb4VJGvIbpqds8R3EKr6SpiFCQBRspKSlBSeYdROKYxvjuIvV85W6sEnn2Z\n"
    "/uh0ZccAGpnZaUJndN223UpwrrfgVv2CDTyyhGdhN5S2XwhdeL4WSbF04l7CP7n/\n"
    "ycdr6ILFd/H+RpNVkIu5wHtdKiy9UWIADtRmPjU8zIdD4KwJ8r2WJHuiT4KBkqqQ\n"
    "de7CRx6HAgMBAAECggEAPAyKuyicDPLiu1/QhH1ONCvZqsoUYaawbLadNW6eUEpF\n"
    "NaTaRh9nQl50EuDXTWk4HDFvRwemlJ+PDDTJyWQ0DrUiJjFmfeGFIiiof1vBnIeO\n"
    "dm3t169OpHLlGNXjYHgr0FDhXQ+f+rVnMp8VcFXgOvyvPgCrV9S66XtoAMnDaTVi\n"
    "BqHX3vGngU348Ms5V6VNCK2MfhDN5Epsy1Koz2yWsfzeKtklHTjn2oXNtKLlLYi3\n"
    "VkwFcyXUrPVVyTHiFAutv0G2z901yNBEc58T2qxbBUsMMnhPeSHe3obNTISdF8Jw\n"
    "lfsO8r+dUMvgVUEXSRriKu0kFE7W+BqrvZQxNSy5IQKBgQDPP/J/s/sjflwM2FL3\n"
    "Z2GKbx3AYldv0mnm0i4gyqdNgkR9i6OJgj/bXftZHbWo3+BkJ2LP8sWUKPczMmvZ\n"
    "73IQcqciCGgUOB5TUAmuvRpsnBSjVj41gqS4d166d2OW99OpGAFjHAlR4thwW+DZ\n"
    "i5GPvn4cPgOd/HeHhi9nwMLjqwKBgQC9285yfjfBGIeZcJOsmiSnXKCRkNrCFYbY\n"
    "ZI54Df6QOOQ6D95wUrCUQAenjR4nl/sMtLzxxsqf//XOHPgl2hJWqdbkMdi9a9/r\n"
    "L9rlwNcRd0Zqt4FUAtH9P6+Ay1xYdRF+6Uu+Vvqd1o/k0qDfJlTog96xmr0fSATm\n"
    "4xURNe3UlQKBgAYHBBR2tY0YtbCh8ffEB/AwvxrDQWu9INtXrYPCoQ7+BOPp1b3A\n"
    "Df9hQlgbJxdcO3huNM97bgebEWVpx/00m4qi6v1wZSaBY1Bk+YMdeNFD0M3XSkPg\n"
    "Is5Cmnyt0DWpy3wVeKTbQeIhyM2rvmRVTMxza9OCcjR8DTXhzysjTge1AoGARX1V\n"
    "M5y05W0H/IYy1sLYVZVWg9Dj8JOWdk9fwdtFaB4akpHKVYw+axSAeLfy6IT88yqX\n"
    "2VpsQWGa4yTBQoFtouCo8X65GKOKIneyg9MwJIlmcZrWsBwUJcAQiXBlTU8T50KW\n"
    "YYVOV0T4B8V78hEClNPnR1Qeknt2p9dHl7QIZ30CgYAsRb80AFQtzDYYUprD2H2Q\n"
    "LMx4enVIOrnXaVfvEIGMa+j9bn1tKQKJLCD3aOPwaYY56UaEp7UWPw2cmS63Ypha\n"
    "ZD5yVn29CQWngYny0Gs+BdRblH4oi6tGFFPZGKDpXycAqcbalI+Ywl6xOg+zp0s1\n"
    "wJ+AhCEuSBwUMbOZkDDhKg==\n"
    "-----END PRIVATE KEY-----\n";

static const char jose_test_x25519_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VuBCIEIJgs1szriRBb5gS6bLSqTBA8/yVB/xlxULKCOU78A9pp\n"
    "-----END PRIVATE KEY-----\n";

static const char jose_test_p384_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDC/RAPctdPITbZUiSvJ\n"
    "pNMOICqzIu2Bk1nXIqFKd4kOypuO+J9aSOaZAANk47JfXxOhZANiAARLnxQuWc3u\n"
    "lXfMUmWGod/aTJpfbYlnd0vsfBH0Wf1ZVR9iC+ebk09pbeyUiBmc8hS6i26Hjjz7\n"
    "p3TMageYpdc/O+ilaHkYzi0rl2/kJMptpc76DGBDJ0S0ZYoUpxdi2zw=\n"
    "-----END PRIVATE KEY-----\n";

/* RFC 7518 Appendix C, Bob: {"kty":"EC","crv":"P-256",...} with d. */
static const char jose_test_p256_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ\","
    "\"y\":\"e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck\","
    "\"d\":\"VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw\"}";

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test client for the NSS channel (tests/e2e/tls_nss.sh): an NSS/NSPR TLS client that POSTs
 * argv[4] to https://argv[1]:argv[2]/ with SNI and Host argv[3], using PR_Write. The test
 * certificate is self-signed, so any certificate is accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nspr.h>
#include <nss.h>
#include <ssl.h>
#include <sslproto.h>
#include <prio.h>
#include <prnetdb.h>

static SECStatus any_cert(void *arg, PRFileDesc *fd, PRBool checksig, PRBool isServer)
{
	(void)arg;
	(void)fd;
	(void)checksig;
	(void)isServer;
	return SECSuccess;
}

int main(int argc, char **argv)
{
	PRNetAddr addr;
	PRFileDesc *tcp, *ssl;
	char req[4096], buf[4096];
	int n;

	if (argc != 5)
		return 2;
	if (NSS_NoDB_Init(NULL) != SECSuccess || NSS_SetDomesticPolicy() != SECSuccess)
		return 3;
	if (PR_StringToNetAddr(argv[1], &addr) != PR_SUCCESS)
		return 4;
	addr.inet.port = PR_htons((PRUint16)atoi(argv[2]));
	tcp = PR_NewTCPSocket();
	ssl = SSL_ImportFD(NULL, tcp);
	if (!ssl)
		return 5;
	SSL_OptionSet(ssl, SSL_SECURITY, PR_TRUE);
	SSL_OptionSet(ssl, SSL_HANDSHAKE_AS_CLIENT, PR_TRUE);
	SSL_SetURL(ssl, argv[3]);
	SSL_AuthCertificateHook(ssl, any_cert, NULL);
	if (PR_Connect(ssl, &addr, PR_SecondsToInterval(10)) != PR_SUCCESS)
		return 6;
	if (SSL_ForceHandshake(ssl) != SECSuccess)
		return 7;
	n = snprintf(req, sizeof(req),
		     "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     argv[3], strlen(argv[4]), argv[4]);
	if (PR_Write(ssl, req, n) != n)
		return 8;
	PR_Read(ssl, buf, sizeof(buf));
	PR_Close(ssl);
	NSS_Shutdown();
	return 0;
}

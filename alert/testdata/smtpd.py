"""A real SMTP server for alert's tests, built on aiosmtpd.

Usage: smtpd.py OUTDIR [--tlscert F --tlskey F] [--requiretls] [--implicit]
                [--user U --password P [--only-login]]

Listens on 127.0.0.1 on a free port and prints the port on stdout. Every
message accepted is written to OUTDIR as N.eml (the DATA bytes as received,
after dot-unstuffing) and N.json (envelope and session facts). Recipients
whose local part starts with "reject" get 550, with "busy" 451.
"""

import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        if local.startswith("busy"):
            return "451 4.3.0 <%s>: Try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        facts = {
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
            "authLogin": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
        }
        with open(base + ".json", "w") as f:
            json.dump(facts, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Message accepted"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("--tlscert")
    p.add_argument("--tlskey")
    p.add_argument("--requiretls", action="store_true")
    p.add_argument("--implicit", action="store_true")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--only-login", action="store_true", help="offer AUTH LOGIN, not PLAIN")
    args = p.parse_args()

    tls = None
    if args.tlscert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tlscert, args.tlskey)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == args.user
            and auth_data.password.decode() == args.password
        )
        # handled=False: aiosmtpd answers 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    kwargs = {"hostname": "smtp.test"}
    if tls is not None and not args.implicit:
        kwargs["tls_context"] = tls
        kwargs["require_starttls"] = args.requiretls
    if args.user:
        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        # aiosmtpd offers AUTH only over TLS by default; the tests check
        # the client's own refusal on plain connections too.
        kwargs["auth_require_tls"] = False
        if args.only_login:
            kwargs["auth_exclude_mechanism"] = ["PLAIN"]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Handler(args.outdir)
    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(handler, loop=loop, **kwargs),
            host="127.0.0.1",
            port=0,
            ssl=tls if args.implicit else None,
        )
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    # Stop when the test closes our stdin (or dies).
    loop.add_reader(sys.stdin, loop.stop)
    loop.run_forever()


if __name__ == "__main__":
    main()

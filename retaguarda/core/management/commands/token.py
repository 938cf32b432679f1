from django.core.management.base import BaseCommand, CommandError

from retaguarda.common.errors import DomainError
from retaguarda.core.models import ApiToken, User
from retaguarda.core.selectors import actor_for
from retaguarda.core.services import api_token_create, api_token_revoke

from .user import company_lookup


class Command(BaseCommand):
    help = "API tokens: `token create USERNAME --name N [--company C]`, `token list`, `token revoke ID`."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token; the secret is printed once.")
        create.add_argument("username")
        create.add_argument("--name", required=True)
        create.add_argument("--company", help="Company id or tax id (default: the user's first).")
        lst = sub.add_parser("list", help="List tokens (never their secrets).")
        lst.add_argument("--all", action="store_true", help="Include revoked tokens.")
        revoke = sub.add_parser("revoke", help="Revoke a token by id.")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args, action, **options):
        if action == "list":
            tokens = ApiToken.objects.select_related("user", "company").order_by("id")
            if not options["all"]:
                tokens = tokens.filter(revoked_at__isnull=True)
            for t in tokens:
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(f"{t.pk}\t{t.prefix}…\t{t.name}\t{t.user.username}\t{t.company}\t{state}")
            return
        if action == "create":
            user = User.objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"no user {options['username']!r}")
            company_id = company_lookup(options["company"]).pk if options["company"] else None
            actor = actor_for(user, company_id)
            if actor is None or (company_id and actor.company.pk != company_id):
                raise CommandError("the user has no access to that company")
            try:
                token, raw = api_token_create(actor=actor, name=options["name"])
            except DomainError as exc:
                raise CommandError(exc.message)
            self.stdout.write(f"token {token.pk} for {user.username} in {actor.company}:")
            self.stdout.write(raw)
            return
        token = ApiToken.objects.select_related("user").filter(pk=options["token_id"]).first()
        if token is None:
            raise CommandError(f"no token {options['token_id']}")
        actor = actor_for(token.user, token.company_id)
        if actor is None:
            from retaguarda.core.permissions import system_actor

            actor = system_actor(token.company)
        try:
            api_token_revoke(actor=actor, token_id=token.pk)
        except DomainError as exc:
            raise CommandError(exc.message)
        self.stdout.write(self.style.SUCCESS(f"token {token.pk} revoked"))

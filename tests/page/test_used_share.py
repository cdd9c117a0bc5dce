"""The "% used" figure counts codes given out, never expired codes nobody got."""

from __future__ import annotations

# ruff: noqa: F811 (the page's fixtures, imported from its main test module)
import re
from datetime import timedelta

from sqlalchemy import update

from promo_app.importing.batches import import_codes
from promo_app.importing.report import ImportLine
from promo_app.models import LoyaltyProgram, PromoCode
from promo_app.times import utcnow
from tests.page.test_page import signed_in  # noqa: F401


def test_expired_codes_are_not_counted_as_used(signed_in, session):
    program = LoyaltyProgram(name="Old campaign", universal=False)
    session.add(program)
    session.flush()
    import_codes(session, program, [ImportLine(n, f"OLD-{n:04d}") for n in range(1000)])
    past = utcnow() - timedelta(days=1)
    # 100 expired before anyone got them; 4 given out (3 attached, 1 activated).
    session.execute(update(PromoCode).where(PromoCode.code < "OLD-0100").values(expire_date=past))
    session.execute(
        update(PromoCode)
        .where(PromoCode.code.in_(["OLD-0500", "OLD-0501", "OLD-0502"]))
        .values(free=False)
    )
    session.execute(
        update(PromoCode).where(PromoCode.code == "OLD-0503").values(free=False, activated=past)
    )
    session.commit()
    for path in ("/admin/", f"/admin/programs/{program.id}"):
        page = signed_in.get(path).text
        [used] = re.findall(r'class="promo-muted promo-used">([^<]*)<', page)
        assert used.split() == ["0.4%", "used", "·", "100", "expired", "unused"]
        assert "4 of 1,000 codes given out, 100 expired unused" in page

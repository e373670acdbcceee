"""A reporter's e-mail (identity or contact field) becomes the To: of status mail (notify.Mailer.send:
msg["To"] = recipient; smtp.send_message derives the envelope recipients from that header).

Attack: an address the field validator accepts but that the mail header reads as several recipients."""

from email.utils import getaddresses

from common import check, done

from wbs_engine.definition import FieldSpec
from wbs_engine.fields import FieldInvalid, clean_value

spec = FieldSpec.model_validate({"name": "email", "type": "email", "identity": True,
                                 "label": {"id": "E-mail", "en": "E-mail"}})
out = []
for addr in ["kepala.kantor,pelapor@mail.id", "pimpinan,inspektorat,x@y.zz", "\"a\"b@c.d", "x@y.z;bcc"]:
    try:
        v = clean_value(spec, addr)
        out.append((addr, [a for _n, a in getaddresses([v])]))
    except FieldInvalid:
        out.append((addr, "refused"))
multi = [o for o in out if o[1] != "refused" and len(o[1]) > 1]
check("an e-mail field accepts only one address (the status mail goes to one recipient)", not multi,
      "\n       ".join(f"{a!r} -> recipients {r}" for a, r in out))
done()

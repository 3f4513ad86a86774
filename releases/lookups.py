"""`field__any_of=[ids]`: membership in a list of ids as one array parameter on PostgreSQL.

`__in` sends one parameter per id and prepares each in Python; a batch of a few hundred releases
(releases.gate.facts) asks that of seven queries per page, which cost more than running them.
PostgreSQL takes the whole list as one array (`= ANY(%s)`); other databases (SQLite for
`make run`) get the usual IN list.
"""

from django.db.models import Field, ForeignKey, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = self.rhs
        if not values:
            return "1 = 0", list(lhs_params)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(AnyOf)
ForeignKey.register_lookup(AnyOf)  # related fields keep lookups of their own

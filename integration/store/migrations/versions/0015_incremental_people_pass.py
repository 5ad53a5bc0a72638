"""incremental people pass: the refs a link could not resolve; every record re-linked once

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 10:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('recordlink', sa.Column('dangling', sa.JSON(none_as_null=True), nullable=True))
    # A link row now remembers the version of its record it was made from (its updated_at); the
    # pass re-links only records stored since. Links made before say nothing of refs they could
    # not resolve, so every record counts as changed once: the next pass re-links them all.
    op.execute("UPDATE recordlink SET updated_at = '1970-01-01 00:00:00'")


def downgrade() -> None:
    with op.batch_alter_table('recordlink', schema=None) as batch_op:
        batch_op.drop_column('dangling')

"""xweb web users, their roles and sign-on tokens

Revision ID: 0005_xweb
Revises: 0004_xweb
Create Date: 2026-12-07 10:15:17.502170
"""

from alembic import op
import sqlalchemy as sa


revision = '0005_xweb'
down_revision = '0004_xweb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('xweb_web_role',
    sa.Column('role_name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('role_name', name=op.f('pk_xweb_web_role'))
    )
    op.create_table('xweb_web_user',
    sa.Column('cst_key', sa.Uuid(), nullable=False),
    sa.Column('cst_web_login', sa.String(length=100), nullable=True),
    sa.Column('cst_web_password', sa.String(length=256), nullable=False),
    sa.Column('cst_web_login_disabled_flag', sa.SmallInteger(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('remember_me', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['cst_key'], ['co_customer.cst_key'], name=op.f('fk_xweb_web_user_cst_key_co_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cst_key', name=op.f('pk_xweb_web_user')),
    sa.UniqueConstraint('cst_web_login', name=op.f('uq_xweb_web_user_cst_web_login')),
    sa.UniqueConstraint('remember_me', name=op.f('uq_xweb_web_user_remember_me'))
    )
    op.create_table('xweb_sign_on_token',
    sa.Column('token', sa.Uuid(), nullable=False),
    sa.Column('cst_key', sa.Uuid(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cst_key'], ['xweb_web_user.cst_key'], name=op.f('fk_xweb_sign_on_token_cst_key_xweb_web_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_xweb_sign_on_token'))
    )
    with op.batch_alter_table('xweb_sign_on_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_xweb_sign_on_token_cst_key'), ['cst_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_xweb_sign_on_token_expires_at'), ['expires_at'], unique=False)

    op.create_table('xweb_web_user_role',
    sa.Column('cst_key', sa.Uuid(), nullable=False),
    sa.Column('role_name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['cst_key'], ['xweb_web_user.cst_key'], name=op.f('fk_xweb_web_user_role_cst_key_xweb_web_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_name'], ['xweb_web_role.role_name'], name=op.f('fk_xweb_web_user_role_role_name_xweb_web_role'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cst_key', 'role_name', name=op.f('pk_xweb_web_user_role'))
    )


def downgrade() -> None:
    op.drop_table('xweb_web_user_role')
    with op.batch_alter_table('xweb_sign_on_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_xweb_sign_on_token_expires_at'))
        batch_op.drop_index(batch_op.f('ix_xweb_sign_on_token_cst_key'))

    op.drop_table('xweb_sign_on_token')
    op.drop_table('xweb_web_user')
    op.drop_table('xweb_web_role')

"""Cameras: the type, the queries and the mutations that register, change and remove them.

A camera's ``sourceUrl`` is always the redacted one: its credentials never leave the server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene
from pydantic import ValidationError

from analytics_pipeline.api.gql.common import JSON
from analytics_pipeline.api.gql.context import context
from analytics_pipeline.api.gql.relay import Node, camera_id
from analytics_pipeline.cameras import Camera as CameraModel
from analytics_pipeline.cameras import CameraInput as CameraInputModel
from analytics_pipeline.cameras import CameraUpdate as CameraUpdateModel
from analytics_pipeline.events import describe_errors
from graphql import GraphQLError, GraphQLResolveInfo


class Camera(graphene.ObjectType):
    """A registered camera. ``id`` is its global id; ``cameraId`` the id it was registered
    with (REST routes, ``Event.cameraId``, ``EventFilter.cameraId``)."""

    class Meta:
        interfaces = (Node,)
        possible_types = (CameraModel,)

    camera_id = graphene.String(required=True, description="The id the camera was registered with.")
    name = graphene.String(required=True)
    source_url = graphene.String(required=True)
    enabled = graphene.Boolean(required=True)
    settings = JSON(required=True)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)
    owner = graphene.String(
        description="The analyzer process (host:pid) holding the camera's lease; null while "
        "no analyzer holds it."
    )
    lease_expires_at = graphene.DateTime(
        description="When the holder's lease runs out unless renewed (renewed every third of "
        "CAMERA_LEASE_SECONDS)."
    )

    @staticmethod
    def resolve_owner(camera: CameraModel, info: GraphQLResolveInfo) -> str | None:
        return context(info).lease_of(camera.id).owner

    @staticmethod
    def resolve_lease_expires_at(camera: CameraModel, info: GraphQLResolveInfo) -> datetime | None:
        return context(info).lease_of(camera.id).lease_expires_at

    @staticmethod
    def resolve_source_url(camera: CameraModel, info: GraphQLResolveInfo) -> str:
        return camera.redacted_source_url

    @staticmethod
    def resolve_camera_id(camera: CameraModel, info: GraphQLResolveInfo) -> str:
        return camera.id


class CamerasQuery:
    """The camera fields of ``Query``."""

    cameras = graphene.List(graphene.NonNull(Camera), required=True)
    camera = graphene.Field(
        Camera,
        id=graphene.ID(required=True, description="The global id or the camera's own id."),
    )

    @staticmethod
    def resolve_cameras(root: None, info: GraphQLResolveInfo) -> list[CameraModel]:
        return context(info).state.cameras.list()

    @staticmethod
    def resolve_camera(root: None, info: GraphQLResolveInfo, id: str) -> CameraModel | None:
        return context(info).cameras.load(camera_id(id))


class CameraInput(graphene.InputObjectType):
    id = graphene.ID(required=True)
    name = graphene.String()
    source_url = graphene.String(required=True)
    enabled = graphene.Boolean()
    settings = JSON()


class CameraUpdateInput(graphene.InputObjectType):
    name = graphene.String()
    source_url = graphene.String()
    enabled = graphene.Boolean()
    settings = JSON()


def _camera_input_error(exc: ValidationError) -> GraphQLError:
    return GraphQLError(f"invalid camera: {describe_errors(exc)}")


class RegisterCamera(graphene.Mutation):
    """Register a camera, or replace the one with the same id."""

    class Arguments:
        input = CameraInput(required=True)

    Output = graphene.NonNull(Camera)

    @staticmethod
    def mutate(root: None, info: GraphQLResolveInfo, input: dict[str, Any]) -> CameraModel:
        values = {k: v for k, v in input.items() if v is not None}
        try:
            camera = CameraInputModel(**values)
        except ValidationError as exc:
            raise _camera_input_error(exc) from None
        return context(info).state.cameras.register(camera)


class UpdateCamera(graphene.Mutation):
    """Change some fields of a registered camera."""

    class Arguments:
        id = graphene.ID(required=True)
        input = CameraUpdateInput(required=True)

    Output = Camera

    @staticmethod
    def mutate(
        root: None,
        info: GraphQLResolveInfo,
        id: str,
        input: dict[str, Any],
    ) -> CameraModel:
        try:
            change = CameraUpdateModel(**input)
        except ValidationError as exc:
            raise _camera_input_error(exc) from None
        camera = None
        id = camera_id(id)
        if context(info).cameras.load(id) is not None:
            camera = context(info).state.cameras.update(id, change)
        if camera is None:
            raise GraphQLError(f"no camera {id[:100]!r}")
        return camera


class RemoveCamera(graphene.Mutation):
    """Remove a camera; its events stay in the log."""

    class Arguments:
        id = graphene.ID(required=True)

    Output = graphene.NonNull(graphene.Boolean)

    @staticmethod
    def mutate(root: None, info: GraphQLResolveInfo, id: str) -> bool:
        id = camera_id(id)
        if context(info).cameras.load(id) is None:
            return False
        return context(info).state.cameras.remove(id)


class CameraMutations:
    """The camera fields of ``Mutation``."""

    register_camera = RegisterCamera.Field()
    update_camera = UpdateCamera.Field()
    remove_camera = RemoveCamera.Field()

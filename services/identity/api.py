"""IdentityService over gRPC: proto <-> domain mapping."""

from __future__ import annotations

from datetime import date

import grpc

from services.common.agents import validate_agent
from services.common import access
from services.common.app import Runtime
from services.common.clock import business_date
from services.common.errors import AlreadyExists, InvalidArgument, NotFound, require
from services.common.ids import new_id
from services.identity import domain, store
from sscard.events.v1 import identity_events_pb2 as events
from sscard.identity.v1 import identity_pb2 as pb
from sscard.identity.v1 import identity_pb2_grpc

CATEGORIES = {
    pb.INSURED_CATEGORY_EMPLOYEE: domain.InsuredCategory.EMPLOYEE,
    pb.INSURED_CATEGORY_RESIDENT: domain.InsuredCategory.RESIDENT,
    pb.INSURED_CATEGORY_FLEXIBLE: domain.InsuredCategory.FLEXIBLE,
}
STATUSES = {
    pb.PERSON_STATUS_EMPLOYED: domain.PersonStatus.EMPLOYED,
    pb.PERSON_STATUS_UNEMPLOYED: domain.PersonStatus.UNEMPLOYED,
    pb.PERSON_STATUS_RETIRED: domain.PersonStatus.RETIRED,
    pb.PERSON_STATUS_DECEASED: domain.PersonStatus.DECEASED,
}


def _enum(mapping: dict, value: int, field: str, required: bool):  # noqa: ANN202
    if value in mapping:
        return mapping[value]
    if value == 0 and not required:
        return None
    raise InvalidArgument("INVALID_ENUM" if value else "FIELD_REQUIRED", f"{field} must be a known value", field=field)


def person_to_pb(person: domain.Person) -> pb.Person:
    message = pb.Person(
        person_id=person.person_id,
        citizen_id=person.citizen_id.number,
        name=person.name,
        gender=pb.GENDER_MALE if person.citizen_id.gender == "male" else pb.GENDER_FEMALE,
        birth_date=person.citizen_id.birth_date.isoformat(),
        region_code=person.region_code,
        insured_category={v: k for k, v in CATEGORIES.items()}[person.insured_category],
        status={v: k for k, v in STATUSES.items()}[person.status],
        employer_unit_id=person.employer_unit_id,
    )
    message.registered_at.FromDatetime(person.registered_at)
    if person.coverage_start:
        message.coverage_start = person.coverage_start.isoformat()
    return message


def person_event(person: domain.Person, **extra: str) -> events.PersonChanged:
    return events.PersonChanged(
        employer_unit_id=person.employer_unit_id,
        **extra,
        person_id=person.person_id,
        citizen_id=person.citizen_id.number,
        name=person.name,
        birth_date=person.citizen_id.birth_date.isoformat(),
        region_code=person.region_code,
        insured_category=person.insured_category.value,
        status=person.status.value,
        date_of_death=person.date_of_death.isoformat() if person.date_of_death else "",
    )


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.db = runtime.db

    async def RegisterPerson(
        self, request: pb.RegisterPersonRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterPersonResponse:
        self.rt.policies.get(request.region_code)
        agent = validate_agent(
            request.agent.citizen_id, request.agent.name, request.agent.relationship,
            request.agent.entrustment_ref, request.citizen_id,
        )

        async def work(uow) -> pb.RegisterPersonResponse:  # noqa: ANN001
            person = domain.register_person(
                person_id=new_id("psn"),
                citizen_id=request.citizen_id,
                name=request.name,
                region_code=request.region_code,
                insured_category=_enum(CATEGORIES, request.insured_category, "insured_category", True),
                status=_enum(STATUSES, request.status, "status", False),
                employer_unit_id=request.employer_unit_id,
                now=uow.now,
                newborn_window_months=self.rt.policies.get(request.region_code).newborn_cover_window_months,
            )
            if await store.find_person(uow.conn, citizen_id=person.citizen_id.number):
                raise AlreadyExists("PERSON_ALREADY_REGISTERED", "this citizen ID is already registered")
            if person.employer_unit_id and await store.get_unit(uow.conn, person.employer_unit_id) is None:
                raise NotFound("UNIT_NOT_FOUND", f"no employer unit {person.employer_unit_id}", field="employer_unit_id")
            await store.insert_person(uow.conn, person)
            await uow.emit("person.registered", person.person_id, person_event(person))
            await uow.audit("person.registered", person.person_id, agent=agent.describe() if agent else "")
            return pb.RegisterPersonResponse(person=person_to_pb(person))

        return await self.db.idempotent("RegisterPerson", request, pb.RegisterPersonResponse, work)

    async def GetPerson(self, request: pb.GetPersonRequest, context: grpc.aio.ServicerContext) -> pb.GetPersonResponse:
        if bool(request.person_id) == bool(request.citizen_id):
            raise InvalidArgument("ONE_KEY_REQUIRED", "give exactly one of person_id or citizen_id")
        person = await self.db.read(lambda c: store.find_person(c, request.person_id, request.citizen_id))
        if person is None:
            raise NotFound("PERSON_NOT_FOUND", "no such person")
        access.check_subject(person_id=person.person_id, region=person.region_code)
        await self.db.audit_read("person.read", person.person_id)
        return pb.GetPersonResponse(person=person_to_pb(person))

    async def RecordDeath(self, request: pb.RecordDeathRequest, context: grpc.aio.ServicerContext) -> pb.RecordDeathResponse:
        try:
            when = date.fromisoformat(request.date_of_death)
        except ValueError:
            raise InvalidArgument("INVALID_DATE", "date_of_death must be YYYY-MM-DD", field="date_of_death") from None
        agent = validate_agent(
            request.agent.citizen_id, request.agent.name, request.agent.relationship, request.agent.entrustment_ref
        )

        async def work(uow) -> pb.RecordDeathResponse:  # noqa: ANN001
            person = await store.find_person(uow.conn, person_id=request.person_id, for_update=True)
            if person is None:
                raise NotFound("PERSON_NOT_FOUND", "no such person")
            person = domain.record_death(person, when, business_date(uow.now))
            await store.update_person(uow.conn, person)
            await uow.emit("person.deceased", person.person_id, person_event(person))
            await uow.audit("person.deceased", person.person_id, agent=agent.describe() if agent else "",
                            detail=f"death certificate {request.death_certificate_ref.strip()[:60]}")
            return pb.RecordDeathResponse(person=person_to_pb(person))

        return await self.db.idempotent("RecordDeath", request, pb.RecordDeathResponse, work)

    async def _load(self, uow, person_id: str) -> domain.Person:  # noqa: ANN001
        require(person_id, "person_id")
        person = await store.find_person(uow.conn, person_id=person_id, for_update=True)  # a write follows
        if person is None:
            raise NotFound("PERSON_NOT_FOUND", "no such person")
        return person

    async def ChangeIdentity(self, request: pb.ChangeIdentityRequest, context: grpc.aio.ServicerContext) -> pb.ChangeIdentityResponse:
        agent = validate_agent(request.agent.citizen_id, request.agent.name, request.agent.relationship, request.agent.entrustment_ref)

        async def work(uow) -> pb.ChangeIdentityResponse:  # noqa: ANN001
            before = await self._load(uow, request.person_id)
            person = domain.change_identity(before, request.new_name, request.new_citizen_id)
            if person.citizen_id != before.citizen_id and await store.find_person(uow.conn, citizen_id=person.citizen_id.number):
                raise AlreadyExists("PERSON_ALREADY_REGISTERED", "the new citizen ID belongs to another registered person")
            await store.update_person(uow.conn, person)
            previous = before.citizen_id.number if person.citizen_id != before.citizen_id else ""
            await uow.emit("person.changed", person.person_id, person_event(person, previous_citizen_id=previous))
            await uow.audit("person.identity_changed", person.person_id, agent=agent.describe() if agent else "",
                            detail="name" if person.name != before.name else "citizen_id")
            return pb.ChangeIdentityResponse(person=person_to_pb(person))

        return await self.db.idempotent("ChangeIdentity", request, pb.ChangeIdentityResponse, work)

    async def TransferInsurance(self, request: pb.TransferInsuranceRequest, context: grpc.aio.ServicerContext) -> pb.TransferInsuranceResponse:
        if request.scope not in (pb.TRANSFER_SCOPE_WITHIN_PROVINCE, pb.TRANSFER_SCOPE_OUT_OF_PROVINCE):
            raise InvalidArgument("FIELD_REQUIRED" if not request.scope else "INVALID_ENUM", "scope must be a known value", field="scope")
        target = self.rt.policies.get(request.to_region_code)
        agent = validate_agent(request.agent.citizen_id, request.agent.name, request.agent.relationship, request.agent.entrustment_ref)
        within = request.scope == pb.TRANSFER_SCOPE_WITHIN_PROVINCE

        async def work(uow) -> pb.TransferInsuranceResponse:  # noqa: ANN001
            before = await self._load(uow, request.person_id)
            person = domain.transfer(before, target.code, target.province, self.rt.policies.get(before.region_code).province, within)
            await store.update_person(uow.conn, person)
            await uow.emit("person.transferred", person.person_id, person_event(
                person, previous_region_code=before.region_code, transfer_scope="within_province" if within else "out_of_province"))
            await uow.audit("person.transferred", person.person_id, agent=agent.describe() if agent else "", detail=f"{before.region_code}->{target.code} certificate {request.transfer_certificate_ref.strip()[:60]}")
            return pb.TransferInsuranceResponse(person=person_to_pb(person))

        return await self.db.idempotent("TransferInsurance", request, pb.TransferInsuranceResponse, work)

    async def CreateEmployerUnit(self, request: pb.CreateEmployerUnitRequest, context: grpc.aio.ServicerContext) -> pb.CreateEmployerUnitResponse:
        self.rt.policies.get(request.region_code)
        access.check_subject(region=request.region_code)

        async def work(uow) -> pb.CreateEmployerUnitResponse:  # noqa: ANN001
            unit = domain.new_employer_unit(new_id("unit"), request.name, request.credit_code, request.region_code)
            if await store.unit_by_credit_code(uow.conn, unit.credit_code):
                raise AlreadyExists("UNIT_ALREADY_REGISTERED", "an employer unit with this credit code exists")
            await store.insert_unit(uow.conn, unit)
            await uow.audit("unit.created", unit.unit_id, detail=unit.credit_code)
            return pb.CreateEmployerUnitResponse(unit=pb.EmployerUnit(**unit.__dict__))

        return await self.db.idempotent("CreateEmployerUnit", request, pb.CreateEmployerUnitResponse, work)

    async def ListUnitMembers(self, request: pb.ListUnitMembersRequest, context: grpc.aio.ServicerContext) -> pb.ListUnitMembersResponse:
        require(request.unit_id, "unit_id")

        async def read(conn) -> pb.ListUnitMembersResponse:  # noqa: ANN001
            unit = await store.get_unit(conn, request.unit_id)
            if unit is None:
                raise NotFound("UNIT_NOT_FOUND", f"no employer unit {request.unit_id}")
            access.check_subject(unit=unit.unit_id, region=unit.region_code)
            return pb.ListUnitMembersResponse(persons=[person_to_pb(p) for p in await store.unit_members(conn, request.unit_id)])

        response = await self.db.read(read)
        await self.db.audit_read("unit.members_listed", request.unit_id)
        return response
